import { ExportError, LakeShardsError, RetriesExhaustedError } from '../../export/errors.js';
import type { HealReport } from '../../export/heal.js';
import { exportRange } from '../../export/run.js';
import { mendSettledHours, scheduledRange } from '../../export/scheduled.js';
import { readCheckpoint } from '../../export/state.js';
import { parseRedaction, RedactionRuleError } from '../../lake/redact.js';
import type { Redactor } from '../../lake/schema.js';
import { XRayTraceSource } from '../../xray/xray-source.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { type CommandIO, LAKE_FLAGS, openLake, progress, xrayClientFor } from '../io.js';

export const exportFlags = {
  ...LAKE_FLAGS,
  from: { type: 'time', description: 'export traces that started at or after this time', placeholder: 'ISO' },
  to: {
    type: 'time',
    description: 'and before this time (default: now minus --lag-minutes)',
    placeholder: 'ISO',
  },
  resume: { type: 'boolean', description: 'continue from the lake checkpoint up to now minus --lag-minutes' },
  endpoint: {
    type: 'string',
    description: 'X-Ray endpoint (xray-local); default: AWS X-Ray in --region',
    placeholder: 'URL',
  },
  region: { type: 'string', default: 'us-east-1', description: 'AWS region', placeholder: 'REGION' },
  'lag-minutes': {
    type: 'number',
    min: 0,
    max: 1440,
    default: 5,
    description: 'live edge: traces younger than this wait for the next run',
    placeholder: 'N',
  },
  'revisit-hours': {
    type: 'number',
    requires: 'resume',
    min: 0,
    max: 24 * 30,
    default: 6,
    description: 'with --resume: re-scan traces updated in the last N hours for late segments',
    placeholder: 'N',
  },
  'heal-hours': {
    type: 'number',
    requires: 'resume',
    integer: true,
    min: 0,
    max: 24,
    default: 2,
    description:
      'with --resume: then check and mend at most N hours no run writes to any more, each once (0: off)',
    placeholder: 'N',
  },
  shards: {
    type: 'number',
    integer: true,
    min: 1,
    max: 1024,
    default: 1,
    description: 'part files per hour partition',
    placeholder: 'N',
  },
  redact: {
    type: 'string',
    description:
      'drop or mask before writing: http_url, http_url:query, users, metadata, cause_message, annotation:KEY',
    placeholder: 'RULES',
  },
  concurrency: {
    type: 'number',
    integer: true,
    min: 1,
    max: 64,
    default: 16,
    description: 'most BatchGetTraces calls in flight (halved on throttling)',
    placeholder: 'N',
  },
} satisfies FlagSpecs;

/** `xray-lake export`: X-Ray → the Parquet lake, exactly once and resumable. */
export async function runExport(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('export', argv, exportFlags);
  const store = openLake(flags.lake!, {
    region: flags.region!,
    ...(flags['s3-endpoint'] && { s3Endpoint: flags['s3-endpoint'] }),
  });
  const now = Date.now() / 1000;
  let range: { from: number; to: number; revisit?: { from: number; to: number } };
  if (flags.resume) {
    if (flags.from !== undefined || flags.to !== undefined)
      throw new UsageError(
        '--resume continues from the checkpoint to the live edge; give --from/--to or --resume, not both',
        'export',
      );
    if (!(await readCheckpoint(store)))
      throw new UsageError(
        `--resume: ${store.location} has no checkpoint yet; run a first export with --from`,
        'export',
      );
    range = await scheduledRange(
      store,
      { lagMinutes: flags['lag-minutes']!, revisitHours: flags['revisit-hours']!, initialLookbackHours: 0 },
      now,
    );
  } else {
    if (flags.from === undefined) throw new UsageError('--from is required (or --resume)', 'export');
    range = { from: flags.from, to: flags.to ?? Math.floor(now - flags['lag-minutes']! * 60) };
  }
  const { from, to } = range;
  // A --resume with nothing new to export still mends (below), as a scheduled run does.
  if (to <= from && !range.revisit && !flags.resume) {
    io.out(`${JSON.stringify({ message: 'nothing to export: the range is empty', from, to })}\n`);
    return 0;
  }
  let redactor: Redactor | undefined;
  try {
    redactor = flags.redact ? parseRedaction(flags.redact) : undefined;
  } catch (error) {
    if (error instanceof RedactionRuleError) throw new UsageError(`--redact: ${error.message}`, 'export');
    throw error;
  }
  const client = xrayClientFor(flags.endpoint, flags.region!);
  const source = new XRayTraceSource(client);
  const bar = progress(io, 'export');
  // Ctrl-C: the window under way completes and the lease is released, so a re-run (or --resume) goes on at
  // once from where this one stopped; a second Ctrl-C ends the process.
  const interrupt = new AbortController();
  void io.interrupted.then(() => {
    interrupt.abort();
    io.err('xray-lake export: stopping after the current window (Ctrl-C again to quit at once)\n');
  });
  try {
    const report = await exportRange(
      { source, store },
      {
        from,
        to,
        shards: flags.shards!,
        fetch: { maxConcurrency: flags.concurrency!, initialConcurrency: Math.min(4, flags.concurrency!) },
        // A bounded backfill (--from/--to) does not move the live checkpoint; a run to the live edge does.
        advanceCheckpoint: flags.to === undefined,
        signal: interrupt.signal,
        ...(range.revisit && { revisit: range.revisit }),
        ...(redactor && { redact: redactor }),
        onProgress: (p) =>
          bar.update(
            `${p.windowsDone}/${p.windowsPlanned} windows · ${p.tracesExported.toLocaleString('en-US')} traces · at ${new Date(p.reached * 1000).toISOString().slice(0, 16)}`,
            { ...p },
          ),
      },
    );
    bar.done(
      `${report.tracesExported.toLocaleString('en-US')} traces exported, ${report.tracesAlreadyCurrent.toLocaleString('en-US')} already current, ${report.quarantinedDocuments} documents quarantined, in ${report.seconds}s`,
    );
    // 130: stopped by Ctrl-C, as a shell reports a command that SIGINT ended.
    if (interrupt.signal.aborted) {
      io.out(`${JSON.stringify(report, null, 2)}\n`);
      return 130;
    }
    // As a scheduled run: then the hours no run writes to any more, each mended once (lib/export/heal.ts).
    let healed: HealReport | undefined;
    try {
      healed = flags.resume
        ? await mendSettledHours(
            { source, store },
            {
              now,
              revisitHours: flags['revisit-hours']!,
              maxHours: flags['heal-hours']!,
              shards: flags.shards!,
              runId: report.runId,
              ...(redactor && { redact: redactor }),
            },
          )
        : undefined;
    } catch (error) {
      // The export is done and its checkpoint durable: its report is still what the run did.
      const message = error instanceof Error ? error.message : String(error);
      io.out(`${JSON.stringify({ ...report, mendingFailed: message }, null, 2)}\n`);
      io.err(
        `xray-lake export: the export succeeded, then mending the lake failed (the next --resume tries the same hours again): ${message}\n`,
      );
      return 1;
    }
    io.out(`${JSON.stringify(healed ? { ...report, healed } : report, null, 2)}\n`);
    if (healed && healed.problemsLeft.length > 0) {
      io.err(
        `xray-lake export: problems left in the lake's hours ${healed.from} to ${healed.to}: xray-lake verify --from ${healed.from} --to ${healed.to} lists them\n`,
      );
      return 1;
    }
    return report.unprocessedTraceIds.length > 0 ? 1 : 0;
  } catch (error) {
    // A --shards the lake was not written with is a bad flag (exit 2), found once the lake is read.
    if (error instanceof LakeShardsError) {
      io.err(`xray-lake export: --${error.message}\n`);
      return 2;
    }
    if (error instanceof ExportError || error instanceof RetriesExhaustedError) {
      io.err(`xray-lake export: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    client.destroy();
  }
}
