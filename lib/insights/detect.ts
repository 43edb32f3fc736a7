import { createHash } from 'node:crypto';
import { baselineFor, type DetectorOptions, latencyVerdict, rateVerdict, type Verdict } from './detectors.js';
import { INSIGHT_DETAIL_TYPE, INSIGHT_SOURCE, type InsightCategory, type InsightEntry } from './events.js';
import {
  initialSeriesState,
  LIFECYCLE_DEFAULTS,
  type LifecycleOptions,
  type SeriesState,
  step,
} from './lifecycle.js';

/** One service's 5-minute bucket, as the `service_buckets` view returns it (bucket as epoch seconds). */
export interface Bucket {
  service: string;
  bucket: number;
  requests: number;
  errors: number;
  faults: number;
  throttles: number;
  p95: number | null;
}

export const BUCKET_SECONDS = 300;
/** Buckets of history a rate baseline sums: seven days of 5-minute buckets. */
export const RATE_HISTORY_BUCKETS = 7 * 288;

export interface DetectOptions {
  /** Epoch seconds: buckets in [from, to) are judged; earlier ones only serve as history. */
  from: number;
  to: number;
  detector?: Partial<DetectorOptions>;
  lifecycle?: Partial<LifecycleOptions>;
  source?: string;
}

const FAILURES: Record<Exclude<InsightCategory, 'LATENCY'>, (b: Bucket) => number> = {
  FAULT: (b) => b.faults,
  ERROR: (b) => b.errors,
  THROTTLE: (b) => b.throttles,
};

interface OpenInsight {
  id: string;
  start: number;
  peak: Verdict;
  requests: number;
  failures: number;
}

/**
 * Replays the detectors and the lifecycle bucket by bucket over [from, to), exactly as scheduled runs
 * would, and returns the insight events in time order: ACTIVE when an insight opens, CLOSED when it
 * closes. One insight per service and category; grouping by root cause over the service graph is not
 * built yet. Pure and deterministic: the same buckets give the same events and insight ids.
 */
export function detectInsights(buckets: readonly Bucket[], options: DetectOptions): InsightEntry[] {
  const lifecycle = { ...LIFECYCLE_DEFAULTS, ...options.lifecycle };
  const byService = new Map<string, Map<number, Bucket>>();
  for (const b of buckets) {
    const series = byService.get(b.service) ?? new Map<number, Bucket>();
    byService.set(b.service, series);
    series.set(b.bucket, b);
  }
  const events: { time: number; entry: InsightEntry }[] = [];
  for (const [service, series] of [...byService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const times = [...series.keys()].sort((a, b) => a - b);
    const first = times[0]!;
    for (const category of ['FAULT', 'ERROR', 'THROTTLE', 'LATENCY'] as const) {
      let state: SeriesState = initialSeriesState();
      let open: OpenInsight | undefined;
      // History of normal buckets only, so an incident does not become its own baseline.
      const history: Bucket[] = [];
      for (let t = Math.floor(first / BUCKET_SECONDS) * BUCKET_SECONDS; t < options.to; t += BUCKET_SECONDS) {
        const bucket = series.get(t) ?? {
          service,
          bucket: t,
          requests: 0,
          errors: 0,
          faults: 0,
          throttles: 0,
          p95: null,
        };
        const verdict = judge(category, bucket, history, t, options.detector);
        const anomalous = verdict.state === 'anomalous';
        if (!anomalous && bucket.requests > 0) {
          history.push(bucket);
          if (history.length > RATE_HISTORY_BUCKETS) history.shift();
        }
        if (t < options.from) continue;
        const next = step(state, anomalous, lifecycle);
        state = next.state;
        if (next.transition === 'opened') {
          const start = t - (lifecycle.openAfter - 1) * BUCKET_SECONDS;
          open = { id: insightId(service, category, start), start, peak: verdict, requests: 0, failures: 0 };
        }
        if (open && anomalous) {
          if (verdict.score > open.peak.score) open.peak = verdict;
          open.requests += bucket.requests;
          open.failures += category === 'LATENCY' ? 0 : FAILURES[category](bucket);
        }
        if (next.transition === 'opened' && open)
          events.push({ time: t, entry: entry(options, service, category, open, 'ACTIVE', t, verdict) });
        if (next.transition === 'closed' && open) {
          const end = t - (lifecycle.closeAfter - 1) * BUCKET_SECONDS;
          events.push({
            time: t,
            entry: entry(options, service, category, open, 'CLOSED', t, open.peak, end),
          });
          open = undefined;
        }
      }
    }
  }
  return events.sort((a, b) => a.time - b.time).map((e) => e.entry);
}

function judge(
  category: InsightCategory,
  bucket: Bucket,
  history: readonly Bucket[],
  time: number,
  options?: Partial<DetectorOptions>,
): Verdict {
  if (category === 'LATENCY') {
    if (bucket.p95 === null)
      return { state: 'insufficient-data', score: 0, observed: 0, expectedLow: 0, expectedHigh: 0 };
    const points = history.flatMap((b) => (b.p95 === null ? [] : [{ time: b.bucket, value: b.p95 }]));
    return latencyVerdict(
      { value: bucket.p95, requests: bucket.requests },
      baselineFor(points, time, BUCKET_SECONDS, options),
      options,
    );
  }
  const failures = FAILURES[category];
  let requests = 0;
  let failed = 0;
  for (const b of history) {
    requests += b.requests;
    failed += failures(b);
  }
  return rateVerdict(
    { requests: bucket.requests, failures: failures(bucket) },
    { requests, failures: failed },
    options,
  );
}

/** Stable across replays and restarts: the same incident always has the same id. */
function insightId(service: string, category: string, start: number): string {
  return createHash('sha256').update(`${service}\u0000${category}\u0000${start}`).digest('hex').slice(0, 32);
}

function entry(
  options: DetectOptions,
  service: string,
  category: InsightCategory,
  open: OpenInsight,
  state: 'ACTIVE' | 'CLOSED',
  time: number,
  verdict: Verdict,
  end?: number,
): InsightEntry {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const latency = category === 'LATENCY';
  const metric = latency
    ? {
        Name: 'p95',
        Observed: verdict.observed,
        ExpectedLow: verdict.expectedLow,
        ExpectedHigh: verdict.expectedHigh,
        Unit: 'Seconds' as const,
      }
    : {
        Name: `${category.toLowerCase()}_rate`,
        Observed: 100 * verdict.observed,
        ExpectedLow: 100 * verdict.expectedLow,
        ExpectedHigh: 100 * verdict.expectedHigh,
        Unit: 'Percent' as const,
      };
  const what = latency
    ? `p95 ${(verdict.observed * 1000).toFixed(0)} ms against an expected at most ${(verdict.expectedHigh * 1000).toFixed(0)} ms`
    : `${category.toLowerCase()} rate ${(100 * verdict.observed).toFixed(1)}% against an expected at most ${(100 * verdict.expectedHigh).toFixed(2)}%`;
  const summary = `${service}: ${what}`;
  const impact = {
    FaultCount: open.failures,
    OkCount: Math.max(0, open.requests - open.failures),
    TotalCount: open.requests,
  };
  return {
    Source: options.source ?? INSIGHT_SOURCE,
    DetailType: INSIGHT_DETAIL_TYPE,
    Time: iso(time),
    Detail: {
      InsightId: open.id,
      State: state,
      Categories: [category],
      Summary: summary,
      StartTime: iso(open.start),
      ...(end !== undefined && { EndTime: iso(end) }),
      RootCauseServiceId: { Name: service },
      ClientRequestImpactStatistics: impact,
      RootCauseServiceRequestImpactStatistics: impact,
      TopAnomalousServices: [{ ServiceId: { Name: service } }],
      Event: {
        EventTime: iso(time),
        Summary:
          state === 'ACTIVE'
            ? `Insight opened: ${summary}`
            : `Insight closed: ${service} back within its expected ${category.toLowerCase()}`,
      },
      Metric: metric,
      SampleTraceIds: [],
    },
  };
}
