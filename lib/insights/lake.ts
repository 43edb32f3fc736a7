import type { QueryEngine } from '../query/engine.js';
import { BUCKET_SECONDS, type Bucket, detectInsights } from './detect.js';
import type { InsightEntry } from './events.js';

const SAMPLE_TRACES = 5;

/**
 * Runs detection over a lake through a query engine: reads the `service_buckets` view from `historyDays`
 * before `from` (baselines) to `to`, replays the detectors, and fills each opened insight's sample traces.
 * `from`/`to` default to the lake's first bucket plus an hour of warm-up, and its last bucket.
 */
export async function detectOverLake(
  engine: QueryEngine,
  options: { from?: number; to?: number; historyDays: number },
): Promise<{ entries: InsightEntry[]; buckets: number; from: number; to: number } | undefined> {
  const { rows: range } = await engine.query(
    'SELECT min(epoch(bucket)) AS first, max(epoch(bucket)) AS last FROM service_buckets',
  );
  const first = range[0]?.first;
  const last = range[0]?.last;
  if (typeof first !== 'number' || typeof last !== 'number') return undefined;
  const from = options.from ?? first + 3600;
  const to = options.to ?? last + BUCKET_SECONDS;
  const historyFrom = from - options.historyDays * 86_400;
  const { rows } = await engine.query(
    `SELECT service, epoch(bucket) AS bucket, requests, errors, faults, throttles, p95 FROM service_buckets
     WHERE bucket >= to_timestamp(${historyFrom}) AND bucket < to_timestamp(${to})`,
  );
  const entries = detectInsights(rows as unknown as Bucket[], { from, to });
  for (const entry of entries)
    if (entry.Detail.State === 'ACTIVE') entry.Detail.SampleTraceIds = await samples(engine, entry);
  return { entries, buckets: rows.length, from, to };
}

/** A few traces that show the anomaly: failing ones for rates, the slowest for latency. */
async function samples(engine: QueryEngine, entry: InsightEntry): Promise<string[]> {
  const { Detail: d } = entry;
  const category = d.Categories[0];
  const condition =
    category === 'FAULT'
      ? 'fault'
      : category === 'THROTTLE'
        ? 'throttle'
        : category === 'ERROR'
          ? '(error OR throttle)'
          : 'TRUE';
  const service = d.RootCauseServiceId.Name.replaceAll("'", "''");
  const { rows } = await engine.query(
    `SELECT trace_id FROM segments WHERE service = '${service}' AND kind IN ('segment', 'inferred') AND ${condition}
     AND start_time >= TIMESTAMPTZ '${d.StartTime}' AND start_time < TIMESTAMPTZ '${d.Event.EventTime}' + INTERVAL '5' MINUTE
     ORDER BY duration DESC LIMIT ${SAMPLE_TRACES}`,
  );
  return rows.map((r) => r.trace_id as string);
}
