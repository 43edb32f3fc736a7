import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DEFAULT_SCENARIO } from '../../local/simulator/scenario.js';
import { simulate } from '../../local/simulator/simulate.js';
import { exportRange } from '../../export/run.js';
import { verifyLake } from '../../lake/verify.js';
import { DuckDbEngine } from '../../query/duckdb-engine.js';
import { bucketsText, evaluate } from '../../insights/evaluate.js';
import { JsonlPublisher } from '../../insights/jsonl-publisher.js';
import { detectOverLake } from '../../insights/lake.js';
import { FsStore } from '../../store/fs-store.js';
import { collectReportData, type ReportData } from '../../report/data.js';
import { renderReport } from '../../report/html.js';
import { XRayTraceSource } from '../../xray/xray-source.js';
import { LocalXRayService } from '../../local/xray-service.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { table } from '../format.js';
import { type CommandIO, progress, xrayClientFor } from '../io.js';

const DEMO_REQUESTS_PER_MINUTE = 6;

export const demoFlags = {
  days: {
    type: 'number',
    min: 0.05,
    max: 29,
    default: 7,
    description: 'days of simulated history',
    placeholder: 'N',
  },
  out: {
    type: 'string',
    default: 'xray-lake-demo',
    description: 'folder for the labels, the lake, insights.jsonl and report.html',
    placeholder: 'DIR',
  },
  seed: {
    type: 'number',
    integer: true,
    min: 0,
    default: 1,
    description: 'simulator seed',
    placeholder: 'N',
  },
  rate: {
    type: 'number',
    min: 0.1,
    max: 10_000,
    // 6 a minute is ~56,000 traces a week: enough for every incident, and an export of about a minute
    // at the whole path's measured rate (bench/README.md).
    default: DEMO_REQUESTS_PER_MINUTE,
    description: 'mean requests a minute',
    placeholder: 'RPM',
  },
} satisfies FlagSpecs;

/**
 * `xray-lake demo` (`npm start`): the pipeline on this machine with no AWS account — a local X-Ray,
 * simulated history with labelled incidents, the export into a Parquet lake, the SQL views on DuckDB, and
 * detection replayed over the period and scored against the labels — and writes insights.jsonl and a
 * self-contained HTML report beside the lake.
 */
export async function runDemo(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('demo', argv, demoFlags);
  const out = resolve(flags.out!);
  await mkdir(out, { recursive: true });
  // Each demo is a fresh week of traffic: a lake left by an earlier demo would mix two histories.
  await rm(join(out, 'lake'), { recursive: true, force: true });
  const to = Math.floor(Date.now() / 60_000) * 60;
  const from = to - flags.days! * 86_400;

  // Reads and writes unthrottled: the demo is about the pipeline, not about waiting on simulated quotas.
  const service = new LocalXRayService({ port: 0, rateLimits: {} });
  const { endpoint } = await service.start();
  io.err(`xray-local: ${endpoint} (HTTP restJson1 + UDP daemon protocol)\n`);
  const client = xrayClientFor(endpoint, 'us-east-1');
  try {
    const bar = progress(io, 'simulate');
    const scenario = {
      ...DEFAULT_SCENARIO,
      traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: flags.rate! },
    };
    const labelsPath = join(out, 'labels.json');
    const report = await simulate(client, {
      scenario,
      from,
      to,
      seed: flags.seed!,
      labelsPath,
      // Local calls cost little but per-call SDK overhead: 250 documents a call doubles ingest (bench/README.md).
      batchSize: 250,
      onProgress: ({ reached, traces }) =>
        bar.update(
          `${Math.round(((reached - from) / (to - from)) * 100)}% · ${traces.toLocaleString('en-US')} traces`,
        ),
    });
    bar.done(
      `${report.traces.toLocaleString('en-US')} traces, ${report.documents.toLocaleString('en-US')} segment documents in ${report.seconds}s`,
    );

    const lakeRoot = join(out, 'lake');
    const exportBar = progress(io, 'export');
    const exported = await exportRange(
      { source: new XRayTraceSource(client), store: new FsStore(lakeRoot) },
      {
        from,
        to,
        onProgress: (p) =>
          exportBar.update(
            `${p.windowsDone}/${p.windowsPlanned} hours · ${p.tracesExported.toLocaleString('en-US')} traces`,
          ),
      },
    );
    exportBar.done(
      `${exported.tracesExported.toLocaleString('en-US')} traces archived to ${lakeRoot} ` +
        `(${(exported.bytesWritten / 2 ** 20).toFixed(1)} MiB of Parquet written, ${exported.calls.BatchGetTraces.toLocaleString('en-US')} BatchGetTraces calls) in ${exported.seconds}s`,
    );

    // What `xray-lake verify` checks on any lake: every trace once, whole, in its hour.
    const verifyBar = progress(io, 'verify');
    const verified = await verifyLake(new FsStore(lakeRoot));
    if (!verified.ok) {
      verifyBar.done(`the lake breaks its invariants: ${JSON.stringify(verified.problems.slice(0, 5))}`);
      return 1;
    }
    verifyBar.done(
      `every trace once and whole: ${verified.traces.toLocaleString('en-US')} traces, ${verified.segments.toLocaleString('en-US')} segment rows, checked in ${verified.seconds}s`,
    );

    // The lake answers from here on: the same views Athena serves, on embedded DuckDB.
    const engine = await DuckDbEngine.open(lakeRoot);
    let data: ReportData;
    const detectBar = progress(io, 'detect');
    const insightsPath = join(out, 'insights.jsonl');
    const reportPath = join(out, 'report.html');
    let scored: ReturnType<typeof evaluate>;
    try {
      detectBar.update('replaying the detectors bucket by bucket');
      const detected = await detectOverLake(engine, { historyDays: 0 });
      await rm(insightsPath, { force: true });
      await new JsonlPublisher(insightsPath).publish(detected?.entries ?? []);
      scored = evaluate(report.labels, detected?.entries ?? []);
      detectBar.done(`${scored.insightsOpened} insights opened, written to ${insightsPath}`);
      const reportBar = progress(io, 'report');
      data = await collectReportData(engine, {
        lakeRoot,
        from,
        to,
        entries: detected?.entries ?? [],
        labels: report.labels,
        evaluation: scored,
      });
      await writeFile(reportPath, renderReport(data));
      reportBar.done(`${reportPath} (self-contained: open it in any browser, no network needed)`);
    } finally {
      await engine.close();
    }
    const round = (value: number, digits: number) => Number(value.toFixed(digits));
    const rows = data.services.map((s) => ({
      service: s.service,
      requests: s.requests,
      'median hourly p95 (ms)': s.p95 === null ? '-' : round(1000 * s.p95, 1),
      'errors %': round(s.errorPct, 2),
      'faults %': round(s.faultPct, 2),
      'throttles %': round(s.throttlePct, 2),
    }));
    io.out(
      `\nServices over the last ${flags.days} days (views service_faults and service_latency, DuckDB over the lake):\n${table(rows)}\n`,
    );
    io.out(
      `\nLabelled incidents (${labelsPath}) and what the detectors made of them:\n${table(
        data.incidents.map((i) => ({
          incident: i.name,
          service: i.service,
          category: i.category,
          start: i.start.slice(0, 16),
          end: i.end.slice(0, 16),
          // Shouted where the detector got it wrong.
          outcome: /^(missed|false alarm)$/.test(i.outcome) ? i.outcome.toUpperCase() : i.outcome,
        })),
      )}\n` +
        `  recall ${(100 * scored.recall).toFixed(0)}%, precision ${(100 * scored.precision).toFixed(0)}% ` +
        `(${scored.insightsOpened} insights, ${scored.falseAlarms} detecting no labelled incident), decoys alerted ${scored.decoysAlerted}, ` +
        `median time to detect ${scored.medianDelayBuckets === null ? '-' : bucketsText(scored.medianDelayBuckets)} of 5 minutes\n`,
    );
    io.out(
      `\nThe lake stays in ${lakeRoot} (Hive-partitioned Parquet). Go on with, for example:\n` +
        `  npx xray-lake query --lake ${lakeRoot} --view service_edges --from now-1d\n` +
        `  npx xray-lake query --lake ${lakeRoot} --sql "SELECT service, operation, max(p95) FROM operation_latency GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5"\n` +
        `  npx xray-lake detect --lake ${lakeRoot} --from now-1d --sink stdout\n` +
        `\nThe report: ${reportPath}\n`,
    );
    return 0;
  } finally {
    client.destroy();
    await service.stop();
  }
}
