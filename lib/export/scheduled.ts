import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseRedaction } from '../lake/redact.js';
import type { Redactor } from '../lake/schema.js';
import type { Logger, Metrics } from '../observability.js';
import type { ObjectStore } from '../store/object-store.js';
import type { TraceSource } from '../xray/source.js';
import type { ExportConfig } from './config.js';
import { ExportConfigError } from './errors.js';
import { advanceHealed, type HealReport, healHours, hoursDue } from './heal.js';
import { exportRange, planWindows, type RunReport } from './run.js';
import { readCheckpoint } from './state.js';

/** SendMessageBatch takes at most 10 entries (SQS API reference, "SendMessageBatch"). */
export const SQS_SEND_BATCH_MAX_ENTRIES = 10;
/**
 * The revisit pass re-reads update times from a little before where the last one stopped: X-Ray stamps
 * updates on its own clock, which may trail ours.
 */
export const REVISIT_OVERLAP_SECONDS = 120;
/** Left of a Lambda's time when the export stops starting windows, to write the checkpoint and report. */
export const DEADLINE_MARGIN_MS = 60_000;

export interface RunDeps {
  source: TraceSource;
  store: ObjectStore;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  /** Epoch ms by which the invocation must be done (Lambda: now + remaining time). */
  deadline?: number;
  /** Stops the run between windows (or parts of a split one), as the deadline does. */
  signal?: AbortSignal;
}

function redaction(config: ExportConfig): { redact?: Redactor } {
  const redactor = config.redact ? parseRedaction(config.redact) : undefined;
  return redactor ? { redact: redactor } : {};
}

/** Publishes a run's figures: the dashboard and alarms in infra/ read these names. */
export function recordRun(report: RunReport, metrics: Metrics, lagSeconds?: number): void {
  metrics.addMetric('TracesExported', 'Count', report.tracesExported);
  metrics.addMetric('SegmentsExported', 'Count', report.segmentsWritten);
  metrics.addMetric('Throttles', 'Count', report.throttles);
  metrics.addMetric('QuarantinedDocuments', 'Count', report.quarantinedDocuments);
  metrics.addMetric('UnprocessedTraces', 'Count', report.unprocessedTraceIds.length);
  // Asked for until X-Ray's retention ran out: these traces are not in the lake and never will be.
  metrics.addMetric('TracesGivenUp', 'Count', report.retried.expired.length);
  metrics.addMetric('BytesWritten', 'Bytes', report.bytesWritten);
  if (lagSeconds !== undefined) metrics.addMetric('ExportLag', 'Seconds', lagSeconds);
}

/**
 * One scheduled run: from the checkpoint (or `initialLookbackHours` ago on a new lake) to now minus the lag,
 * then the revisit pass for late segments. Stops starting windows near the deadline; the next run resumes.
 * With time left, it then mends the next hours no scheduled pass writes to any more (see {@link healHours}).
 */
export async function runScheduledExport(
  config: ExportConfig,
  deps: RunDeps,
): Promise<RunReport & { healed?: HealReport; mendingFailed?: string }> {
  const now = (deps.now ?? Date.now)() / 1000;
  const range = await scheduledRange(deps.store, config, now);
  // The export's and the mending's alike: the redaction rules (parsed once) and where to stop.
  const common = {
    ...redaction(config),
    ...(deps.deadline !== undefined && { stopAt: deps.deadline - DEADLINE_MARGIN_MS }),
  };
  const report = await exportRange(
    { source: deps.source, store: deps.store },
    {
      ...range,
      shards: config.shards,
      fetch: { maxConcurrency: config.maxConcurrency },
      advanceCheckpoint: true,
      ...common,
      ...(deps.now && { now: deps.now }),
    },
  );
  const reached = report.checkpoint ? Date.parse(report.checkpoint) / 1000 : range.from;
  recordRun(report, deps.metrics, Math.max(0, now - reached));
  const level = report.unprocessedTraceIds.length > 0 || report.quarantinedDocuments > 0 ? 'warn' : 'info';
  deps.logger[level]('export run finished', { report });
  // Asked for run after run and never returned, now past X-Ray's retention: not in the lake, for good.
  if (report.retried.expired.length > 0)
    deps.logger.error('unprocessed traces given up: X-Ray no longer keeps them', {
      traceIds: report.retried.expired,
    });
  // Then the hours no scheduled pass writes to any more, each checked and mended once, while time is left.
  if (report.stoppedAt !== undefined || (common.stopAt !== undefined && Date.now() >= common.stopAt))
    return report;
  let healed: HealReport | undefined;
  try {
    healed = await mendSettledHours(
      { source: deps.source, store: deps.store },
      {
        now,
        revisitHours: config.revisitHours,
        maxHours: config.healHours,
        shards: config.shards,
        runId: report.runId,
        ...common,
        ...(deps.now && { clock: deps.now }),
      },
    );
  } catch (error) {
    // The export is done and its checkpoint durable. Failing the invocation would have Lambda retry it (an
    // export again for nothing) and raise ExportFailing for an export that worked; the mending's hours have
    // not moved past, so the next run tries them again, and LakeMendingFailing says when it keeps failing.
    deps.metrics.addMetric('LakeMendingFailed', 'Count', 1);
    const message = error instanceof Error ? error.message : String(error);
    deps.logger.error(LAKE_MENDING_FAILED_LOG, { error, runId: report.runId });
    return { ...report, mendingFailed: message };
  }
  if (!healed) return report;
  recordHeal(healed, deps.metrics);
  if (healed.problemsLeft.length > 0)
    deps.logger.error(LAKE_PROBLEMS_LEFT_LOG, {
      healed,
      check: `xray-lake verify --lake ${deps.store.location} --from ${healed.from} --to ${healed.to}`,
    });
  else if (healed.problemsFound > 0) deps.logger.warn('lake hours mended', { healed });
  return { ...report, healed };
}

/**
 * Mends the next hours due (see {@link hoursDue}) and records how far it got: past them, or, when it dated
 * orphan rows (they are dropped by a check after the grace), at their start, so the next run checks them
 * again. What a scheduled run and `xray-lake export --resume` do after their export. Undefined when no hour
 * is due.
 */
export async function mendSettledHours(
  deps: { source: TraceSource; store: ObjectStore },
  options: {
    /** Epoch seconds. */
    now: number;
    revisitHours: number;
    maxHours: number;
    shards: number;
    runId: string;
    redact?: Redactor;
    /** Epoch ms now, for the orphans' grace (default Date.now). */
    clock?: () => number;
    /** Epoch ms: no hour is begun exporting again past it. */
    stopAt?: number;
  },
): Promise<HealReport | undefined> {
  const due = await hoursDue(deps.store, options);
  if (!due) return undefined;
  const healed = await healHours(deps, {
    ...due,
    shards: options.shards,
    ...(options.redact && { redact: options.redact }),
    ...(options.clock && { now: options.clock }),
    ...(options.stopAt !== undefined && { stopAt: options.stopAt }),
  });
  await advanceHealed(deps.store, healed.pendingOrphanTraces > 0 ? due.from : due.to, options.runId);
  return healed;
}

/** The log line of a mending that failed (its hours are tried again by the next run). */
export const LAKE_MENDING_FAILED_LOG = 'lake mending failed; the export itself succeeded';

/** The log line of a mending that left problems (see {@link healHours}). */
export const LAKE_PROBLEMS_LEFT_LOG = 'lake problems left after mending';

/** Publishes a mending's figures: the dashboard and the LakeProblemsLeft alarm in infra/ read these names. */
export function recordHeal(healed: HealReport, metrics: Metrics): void {
  metrics.addMetric('LakeProblemsFound', 'Count', healed.problemsFound);
  metrics.addMetric('LakeProblemsLeft', 'Count', healed.problemsLeft.length);
  metrics.addMetric('TracesReexported', 'Count', healed.tracesReexported);
}

/**
 * What a scheduled (or `--resume`d) run covers: traces that started from the checkpoint (or
 * `initialLookbackHours` ago on a new lake) to now minus the lag; and the revisit pass, by update time,
 * from where the last one stopped (never further back than `revisitHours`) to now.
 */
export async function scheduledRange(
  store: ObjectStore,
  config: Pick<ExportConfig, 'lagMinutes' | 'revisitHours' | 'initialLookbackHours'>,
  now: number,
): Promise<{ from: number; to: number; revisit?: { from: number; to: number } }> {
  const to = Math.floor(now - config.lagMinutes * 60);
  const checkpoint = await readCheckpoint(store);
  const from = Math.min(to, checkpoint?.position ?? Math.floor(to - config.initialLookbackHours * 3600));
  if (config.revisitHours <= 0) return { from, to };
  const horizon = now - config.revisitHours * 3600;
  const revisitFrom = Math.max(horizon, (checkpoint?.revisitPosition ?? horizon) - REVISIT_OVERLAP_SECONDS);
  return { from, to, revisit: { from: revisitFrom, to: Math.ceil(now) } };
}

/** A backfill window message: what the planner enqueues and a worker exports. */
export interface BackfillWindow {
  /** ISO times. */
  from: string;
  to: string;
}

/**
 * Splits [from, to) into hour windows and enqueues them, 10 a call, for workers to export side by side.
 * Returns how many were enqueued; entries SQS refuses are retried once, then fail the planning loudly.
 */
export async function planBackfill(
  range: { from: number; to: number },
  queueUrl: string | undefined,
  client: SQSClient = new SQSClient({}),
): Promise<{ windows: number }> {
  if (!queueUrl) throw new ExportConfigError('BACKFILL_QUEUE_URL', 'required to plan a backfill');
  const windows: BackfillWindow[] = planWindows(range.from, range.to).map((w) => ({
    from: new Date(w.from * 1000).toISOString(),
    to: new Date(w.to * 1000).toISOString(),
  }));
  for (let i = 0; i < windows.length; i += SQS_SEND_BATCH_MAX_ENTRIES) {
    let entries = windows
      .slice(i, i + SQS_SEND_BATCH_MAX_ENTRIES)
      .map((w, j) => ({ Id: String(i + j), MessageBody: JSON.stringify(w) }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const result = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = new Set((result.Failed ?? []).map((f) => f.Id));
      if (failed.size > 0 && attempt >= 2)
        throw new Error(
          `SQS refused ${failed.size} backfill windows: ${(result.Failed ?? []).map((f) => `${f.Id} ${f.Code}`).join(', ')}`,
        );
      entries = entries.filter((entry) => failed.has(entry.Id));
    }
  }
  return { windows: windows.length };
}

/** Parses a backfill message, naming what is wrong with it. */
export function parseBackfillWindow(body: string): { from: number; to: number } {
  let value: Partial<BackfillWindow>;
  try {
    value = JSON.parse(body) as Partial<BackfillWindow>;
  } catch {
    throw new ExportConfigError('message body', 'not JSON');
  }
  const from = Date.parse(value.from ?? '');
  const to = Date.parse(value.to ?? '');
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from)
    throw new ExportConfigError(
      'message body',
      `expected {"from": ISO, "to": ISO} with to after from, got ${body.slice(0, 200)}`,
    );
  return { from: from / 1000, to: to / 1000 };
}

/**
 * A worker's share of a backfill: one window, under its own lease, without moving the main checkpoint. A
 * window that does not fit the invocation (a busy hour, split into parts) stops between parts at the
 * deadline and enqueues the rest as a new message (`sqs`, to BACKFILL_QUEUE_URL): retried whole instead, it
 * would begin again from its start each time and reach the dead-letter queue after three.
 */
export async function runBackfillWindow(
  config: ExportConfig,
  window: { from: number; to: number },
  deps: RunDeps,
  sqs?: SQSClient,
): Promise<RunReport> {
  const report = await exportRange(
    { source: deps.source, store: deps.store },
    {
      ...window,
      shards: config.shards,
      fetch: { maxConcurrency: config.maxConcurrency },
      leaseName: `backfill-${window.from}-${window.to}`,
      ...redaction(config),
      ...(deps.deadline !== undefined && { stopAt: deps.deadline - DEADLINE_MARGIN_MS }),
      ...(deps.signal && { signal: deps.signal }),
    },
  );
  recordRun(report, deps.metrics);
  deps.logger.info('backfill window exported', { report });
  if (report.stoppedAt !== undefined) {
    const reached = Date.parse(report.stoppedAt) / 1000;
    // Nothing done: a new message would be this one again, so let SQS retry it (and count the attempt).
    if (reached <= window.from)
      throw new Error(
        'stopped at its deadline before any of the window was exported; the message will be retried',
      );
    // The rest goes on in a message of its own before any failure below: tied to this one's retries, a
    // window too big for one invocation with an unprocessed trace in each part would end in the DLQ.
    await planBackfill({ from: reached, to: window.to }, config.backfillQueueUrl, sqs);
    deps.logger.info('backfill window continued in a new message', {
      from: report.stoppedAt,
      to: new Date(window.to * 1000).toISOString(),
    });
  }
  // SQS retries the message (the part already exported is found current, so a retry fetches what is
  // missing) and, past its attempts, keeps it in the DLQ, which has an alarm.
  if (report.unprocessedTraceIds.length > 0)
    throw new Error(
      `${report.unprocessedTraceIds.length} traces of the window could not be fetched; the message will be retried`,
    );
  return report;
}
