import { type DetectorOptions, parseLatencyBins } from './detectors.js';
import type { LifecycleOptions } from './lifecycle.js';
import type { QueryEngine } from '../query/engine.js';
import {
  BUCKET_SECONDS,
  type Bucket,
  detectInsights,
  type Edge,
  edgeOfSeries,
  edgeSeriesName,
  rootEdge,
} from './detect.js';
import type { InsightEntry } from './events.js';

const SAMPLE_TRACES = 5;

/** The `dt` partition (UTC day) of an epoch second. */
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

/**
 * Runs detection over a lake through a query engine: reads the `service_buckets` view from `historyDays`
 * before `from` (baselines) to `to`, replays the detectors, and fills each opened insight's sample traces.
 * `from`/`to` default to the lake's first bucket plus an hour of warm-up, and its last bucket.
 */
export async function detectOverLake(
  engine: QueryEngine,
  options: {
    from?: number;
    to?: number;
    historyDays: number;
    source?: string;
    detector?: Partial<DetectorOptions>;
    lifecycle?: Partial<LifecycleOptions>;
  },
): Promise<{ entries: InsightEntry[]; buckets: number; from: number; to: number } | undefined> {
  // One read: the range's own buckets tell where the lake starts and ends when from/to are open.
  const historyFrom = options.from === undefined ? undefined : options.from - options.historyDays * 86_400;
  const rows = await readBuckets(engine, historyFrom, options.to);
  if (rows.length === 0) return undefined;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const b of rows) {
    if (b.bucket < first) first = b.bucket;
    if (b.bucket > last) last = b.bucket;
  }
  const from = options.from ?? first + 3600;
  const to = options.to ?? last + BUCKET_SECONDS;
  const edges = await readEdges(engine, historyFrom ?? first, to);
  if (options.detector?.edgeSeries === 1)
    rows.push(...(await readEdgeSeries(engine, rows, historyFrom, options.to)));
  const entries = detectInsights(rows, {
    from,
    to,
    edges,
    ...(options.detector && { detector: options.detector }),
    ...(options.lifecycle && { lifecycle: options.lifecycle }),
    ...(options.source && { source: options.source }),
  });
  await fillSamples(engine, entries);
  return { entries, buckets: rows.length, from, to };
}

/**
 * Every service's 5-minute buckets in [from, to) (epoch seconds; either open when undefined), from
 * `service_buckets`, with partition filters for the bounds given.
 */
export async function readBuckets(engine: QueryEngine, from?: number, to?: number): Promise<Bucket[]> {
  return readBucketView(engine, 'service_buckets', 'service', (r) => String(r.service), from, to);
}

/**
 * Every caller → callee edge's 5-minute buckets in [from, to), from `edge_buckets`, as series named by
 * {@link edgeSeriesName}: what the detector judges besides the services' with `edgeSeries=1`.
 */
export async function readEdgeBuckets(engine: QueryEngine, from?: number, to?: number): Promise<Bucket[]> {
  return readBucketView(
    engine,
    'edge_buckets',
    'caller, callee',
    (r) => edgeSeriesName({ caller: String(r.caller), callee: String(r.callee) }),
    from,
    to,
  );
}

/**
 * The edge series' buckets in [from, to) that the detector judges with `edgeSeries=1`: those of
 * `readEdgeBuckets` that say something their callee's own buckets (`services`, read over the same range)
 * do not (see {@link edgeBucketsBeyondServices}).
 */
export async function readEdgeSeries(
  engine: QueryEngine,
  services: readonly Bucket[],
  from?: number,
  to?: number,
): Promise<Bucket[]> {
  return edgeBucketsBeyondServices(await readEdgeBuckets(engine, from, to), services);
}

/**
 * The edge buckets that say something the callee's own do not: an edge bucket holding every request its
 * callee had in that bucket (its only caller then, and no request from outside) is the callee's bucket again,
 * and judged twice it would only cost time and state and name the same anomaly twice. So an edge to a service
 * with one caller never becomes a series (six of the demo's eight edges), and a second caller's edge is
 * judged in the buckets where the two share the callee. Decided bucket by bucket from the two views' rows,
 * so a scheduled run and a replay decide alike.
 */
export function edgeBucketsBeyondServices(
  edgeBuckets: readonly Bucket[],
  serviceBuckets: readonly Bucket[],
): Bucket[] {
  const requests = new Map<string, number>();
  for (const b of serviceBuckets) requests.set(`${b.service}\u0000${b.bucket}`, b.requests);
  return edgeBuckets.filter((b) => {
    const callee = edgeOfSeries(b.service)?.callee;
    return callee === undefined || requests.get(`${callee}\u0000${b.bucket}`) !== b.requests;
  });
}

/** A bucket view's rows in [from, to), a bucket straddling an hour partition merged into one. */
async function readBucketView(
  engine: QueryEngine,
  view: 'service_buckets' | 'edge_buckets',
  keyColumns: string,
  seriesOf: (row: Record<string, unknown>) => string,
  from?: number,
  to?: number,
): Promise<Bucket[]> {
  // The hour before `from` too: a segment lives in the partition of its trace's start, so a bucket's
  // requests include those of traces begun in the previous hour (a queue consumer a minute behind its
  // producer, a long job's later calls). Without it a scheduled run read the first buckets of each hour
  // short, and judged them differently from a replay of the same range, which reads every hour.
  const partitionsFrom = from === undefined ? undefined : Math.floor(from / 3600) * 3600 - 3600;
  const where =
    from !== undefined && to !== undefined
      ? [
          partitionFilter(partitionsFrom!, to),
          `bucket >= from_unixtime(${from})`,
          `bucket < from_unixtime(${to})`,
        ]
      : [
          ...(from === undefined
            ? []
            : [`dt >= '${day(partitionsFrom!)}'`, `bucket >= from_unixtime(${from})`]),
          ...(to === undefined ? [] : [`dt <= '${day(to)}'`, `bucket < from_unixtime(${to})`]),
        ];
  const { rows } = await engine.query(
    `SELECT ${keyColumns}, to_unixtime(bucket) AS bucket, requests, errors, faults, throttles, p50, p95, latency_bins FROM ${view}
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`,
  );
  const merged = new Map<string, Bucket>();
  for (const r of rows) {
    const b: Bucket = {
      service: seriesOf(r),
      bucket: Number(r.bucket),
      requests: Number(r.requests),
      errors: Number(r.errors),
      faults: Number(r.faults),
      throttles: Number(r.throttles),
      p50: r.p50 === null || r.p50 === undefined ? null : Number(r.p50),
      p95: r.p95 === null || r.p95 === undefined ? null : Number(r.p95),
      latencyBins: typeof r.latency_bins === 'string' ? r.latency_bins : null,
    };
    const key = `${b.service}\u0000${b.bucket}`;
    const seen = merged.get(key);
    merged.set(key, seen ? mergeBuckets(seen, b) : b);
  }
  return [...merged.values()];
}

/**
 * One bucket from the two rows `service_buckets` gives a bucket that straddles an hour partition (the view
 * groups by partition so that filters prune: a segment of a trace begun at 14:59:59 that starts at 15:00:02
 * lives in hour 14 but belongs to the 15:00 bucket). Counts and histograms add up exactly; the quantiles
 * are the larger row's, as the other holds only those few late segments.
 */
function mergeBuckets(a: Bucket, b: Bucket): Bucket {
  const [major, minor] = a.requests >= b.requests ? [a, b] : [b, a];
  const bins: Record<number, number> = {};
  for (const text of [a.latencyBins, b.latencyBins])
    if (text) for (const [bin, count] of parseLatencyBins(text)) bins[bin] = (bins[bin] ?? 0) + count;
  return {
    ...major,
    requests: major.requests + minor.requests,
    errors: major.errors + minor.errors,
    faults: major.faults + minor.faults,
    throttles: major.throttles + minor.throttles,
    p95: major.p95 ?? minor.p95,
    p50: major.p50 ?? minor.p50 ?? null,
    latencyBins: a.latencyBins || b.latencyBins ? JSON.stringify(bins) : null,
  };
}

/**
 * The service graph's edges seen in [from, to) (epoch seconds): `service_edges`' caller → callee pairs, by
 * the view's rule, read from `segments` itself. The view's `hour` is the segment's hour (a timestamp, by
 * contract), which no engine can map to the `hour` partition folders, so through the view a scheduled run
 * scanned the whole day's segments on Athena for five minutes of edges; here its partition filter prunes to
 * the hours read. An hour before `from` too: a trace's segments live in the partition of its start, and a
 * call at 15:00:02 can belong to a trace begun at 14:59.
 */
export async function readEdges(engine: QueryEngine, from: number, to: number): Promise<Edge[]> {
  const hour = Math.floor(from / 3600) * 3600;
  const { rows } = await engine.query(
    `SELECT DISTINCT caller_service AS caller, service AS callee FROM segments
     WHERE ${partitionFilter(hour - 3600, to)} AND kind IN ('segment', 'inferred')
     AND caller_service IS NOT NULL AND caller_service <> service
     AND start_time >= from_unixtime(${hour}) AND start_time < from_unixtime(${to})`,
  );
  return rows.map((r) => ({ caller: String(r.caller), callee: String(r.callee) }));
}

/**
 * Fills the sample traces of ACTIVE entries (opened or updated insights): each entry's from what it says
 * (root, caller, category, start, event time), so an update found in a replay gets the samples the
 * scheduled run that found it does. (Reusing an insight's first samples for its updates within a run made
 * a replay's differ from the scheduled runs', whose updates come in runs of their own.)
 */
export async function fillSamples(engine: QueryEngine, entries: readonly InsightEntry[]): Promise<void> {
  const cache = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.Detail.State !== 'ACTIVE') continue;
    const d = entry.Detail;
    const key = JSON.stringify([
      d.RootCauseServiceId.Name,
      rootEdge(entry)?.caller,
      d.Categories[0],
      d.StartTime,
      d.Event.EventTime,
    ]);
    const found = cache.get(key) ?? (await samples(engine, entry));
    cache.set(key, found);
    entry.Detail.SampleTraceIds = found;
  }
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
  const quote = (name: string) => `'${name.replaceAll("'", "''")}'`;
  // An edge's insight: the caller's calls to the service, not the service's every request.
  const edge = rootEdge(entry);
  const caller = edge ? ` AND caller_service = ${quote(edge.caller)}` : '';
  const { rows } = await engine.query(
    `SELECT trace_id, max(duration) AS slowest FROM segments WHERE service = ${quote(d.RootCauseServiceId.Name)}${caller} AND kind IN ('segment', 'inferred') AND ${condition}
     AND ${partitionFilter(Date.parse(d.StartTime) / 1000, Date.parse(d.Event.EventTime) / 1000 + 300)}
     AND start_time >= from_iso8601_timestamp('${d.StartTime}')
     AND start_time < from_iso8601_timestamp('${d.Event.EventTime}') + INTERVAL '5' MINUTE
     GROUP BY trace_id ORDER BY slowest DESC, trace_id LIMIT ${SAMPLE_TRACES}`,
  );
  return rows.map((r) => r.trace_id as string);
}

/**
 * A partition filter for [from, to) in epoch seconds: the days, and the hours of the first and last day, so
 * a scheduled run that reads its last few buckets scans an hour or two of the lake on Athena, not a day
 * (or two across midnight). The plain day range stays in front of the hours: an engine that cannot prune
 * on the disjunction (partition projection enumerates values column by column) still prunes on the days.
 */
export function partitionFilter(from: number, to: number): string {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const first = iso(from);
  const last = iso(Math.max(from, to - 1));
  const [firstDay, firstHour] = [first.slice(0, 10), first.slice(11, 13)];
  const [lastDay, lastHour] = [last.slice(0, 10), last.slice(11, 13)];
  if (firstDay === lastDay) return `dt = '${firstDay}' AND hour >= '${firstHour}' AND hour <= '${lastHour}'`;
  const between = [
    `(dt = '${firstDay}' AND hour >= '${firstHour}')`,
    `(dt > '${firstDay}' AND dt < '${lastDay}')`,
    `(dt = '${lastDay}' AND hour <= '${lastHour}')`,
  ];
  return `${dtBetween(from, to)} AND (${between.join(' OR ')})`;
}

/** A partition filter on `dt` for [from, to) in epoch seconds: Athena then scans only those days. */
function dtBetween(from: number, to: number): string {
  return `dt >= '${day(from)}' AND dt <= '${day(to)}'`;
}
