/**
 * Anomaly detectors: pure functions from a bucket's observation and its history to a verdict. No I/O,
 * no clock; every threshold is a named, documented, overridable field of {@link DETECTOR_DEFAULTS}.
 *
 * False alarms across many services × metrics × buckets are controlled in two stages: each detector
 * tests at a small per-bucket significance, and the insight lifecycle opens an insight only when an
 * anomaly persists for consecutive buckets (so per-series false alarms go as alpha², about 1e-8 a bucket).
 */
import { median, medianAbsoluteDeviation } from 'simple-statistics';

export const DETECTOR_DEFAULTS = {
  /** Per-bucket significance of the rate test (binomial upper tail). */
  rateAlpha: 1e-4,
  /** Fewer failures than this in a bucket never make a rate anomaly: a quiet service must not flap on one. */
  rateMinFailures: 3,
  /**
   * Prior pseudo-counts added to the baseline (failures, requests): a service that never failed in its
   * history does not get a baseline rate of exactly 0, against which any failure would be infinitely
   * unlikely. 0.5 failures in 1,000 requests is a 0.05% rate, weighed as 1,000 requests of evidence.
   */
  ratePriorFailures: 0.5,
  ratePriorRequests: 1000,
  /** Robust z-score (in MAD-scaled standard deviations) above which latency is anomalous. */
  latencyZ: 4,
  /** ... and it must also be this much above the baseline median: statistically and practically slow. */
  latencyMinIncrease: 0.25,
  /** The spread is floored at this fraction of the median, so a very steady series does not alert on noise. */
  latencyMinRelativeSpread: 0.05,
  /** Baseline points needed before any latency verdict (the warm-up). */
  latencyWarmupPoints: 12,
  /** Buckets with fewer requests give no latency verdict: a p95 of five requests is noise. */
  latencyMinRequests: 10,
  /** Days of history at the same time of day before the baseline becomes seasonal. */
  seasonalMinDays: 3,
  /** Buckets either side of the same time of day that count as "the same time" on earlier days. */
  seasonalWidthBuckets: 1,
  /** Recent buckets used as the baseline until the seasonal one is available. */
  recentBuckets: 36,
} as const;

export type DetectorOptions = { -readonly [K in keyof typeof DETECTOR_DEFAULTS]: number };

/** A detector's verdict on one bucket. */
export interface Verdict {
  state: 'normal' | 'anomalous' | 'warming-up' | 'insufficient-data';
  /** How unusual, comparable across buckets of one detector (−log10 p for rates, z for latency). */
  score: number;
  observed: number;
  expectedLow: number;
  expectedHigh: number;
}

/**
 * Faults, errors or throttles against request volume: is `failures` of `requests` more than the baseline
 * rate allows? Binomial upper tail P(X ≥ failures | n = requests, p = baseline). The same shift is
 * detectable on a busy service and ignored on a quiet one, as X-Ray Insights' expected band conditioned on
 * traffic is.
 */
export function rateVerdict(
  observation: { requests: number; failures: number },
  baseline: { requests: number; failures: number },
  options: Partial<DetectorOptions> = {},
): Verdict {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const { requests: n, failures: k } = observation;
  const p = (baseline.failures + o.ratePriorFailures) / (baseline.requests + o.ratePriorRequests);
  if (n === 0) return { state: 'insufficient-data', score: 0, observed: 0, expectedLow: 0, expectedHigh: p };
  const pValue = binomialUpperTail(k, n, p);
  const expectedHigh = criticalCount(n, p, o.rateAlpha) / n;
  const anomalous = k >= o.rateMinFailures && pValue < o.rateAlpha;
  return {
    state: anomalous ? 'anomalous' : 'normal',
    score: -Math.log10(Math.max(pValue, 1e-300)),
    observed: k / n,
    expectedLow: 0,
    expectedHigh,
  };
}

/**
 * Latency (a bucket's p95, say) against a robust baseline: median and MAD of the baseline points, the MAD
 * scaled to a standard deviation (×1.4826) and floored. Only slowdowns are anomalies.
 */
export function latencyVerdict(
  observation: { value: number; requests: number },
  baseline: readonly number[],
  options: Partial<DetectorOptions> = {},
): Verdict {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  if (baseline.length < o.latencyWarmupPoints)
    return {
      state: 'warming-up',
      score: 0,
      observed: observation.value,
      expectedLow: 0,
      expectedHigh: Number.POSITIVE_INFINITY,
    };
  const center = median([...baseline]);
  const spread = Math.max(
    1.4826 * medianAbsoluteDeviation([...baseline]),
    o.latencyMinRelativeSpread * center,
    1e-6,
  );
  const expectedLow = Math.max(0, center - o.latencyZ * spread);
  const expectedHigh = Math.max(center + o.latencyZ * spread, center * (1 + o.latencyMinIncrease));
  if (observation.requests < o.latencyMinRequests)
    return { state: 'insufficient-data', score: 0, observed: observation.value, expectedLow, expectedHigh };
  const z = (observation.value - center) / spread;
  const anomalous = observation.value > expectedHigh;
  return {
    state: anomalous ? 'anomalous' : 'normal',
    score: z,
    observed: observation.value,
    expectedLow,
    expectedHigh,
  };
}

/**
 * The baseline points for a bucket at `time` (epoch seconds): the same time of day (± a bucket) on earlier
 * days once `seasonalMinDays` of them exist with points enough for the warm-up, so a daily peak is
 * compared with earlier peaks; until then, the most recent buckets. `history` holds earlier buckets only, in any order.
 */
export function baselineFor(
  history: readonly { time: number; value: number }[],
  time: number,
  bucketSeconds: number,
  options: Partial<DetectorOptions> = {},
): number[] {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const day = 86_400;
  const width = o.seasonalWidthBuckets * bucketSeconds;
  const seasonal = history.filter((point) => {
    const age = time - point.time;
    if (age < day - width) return false;
    const offset = ((age % day) + day) % day;
    return offset <= width || offset >= day - width;
  });
  const days = new Set(seasonal.map((point) => Math.round((time - point.time) / day)));
  // Seasonal only once it can also pass the warm-up; until then the recent buckets judge.
  if (days.size >= o.seasonalMinDays && seasonal.length >= o.latencyWarmupPoints)
    return seasonal.map((point) => point.value);
  return history
    .filter((point) => point.time < time)
    .sort((a, b) => b.time - a.time)
    .slice(0, o.recentBuckets)
    .map((point) => point.value);
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space so tails down to 1e-300 stay accurate. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // pmf(k) from the log-gamma form, then each next term by the ratio pmf(i+1)/pmf(i).
  let term = Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
  let sum = term;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, sum);
}

/** The smallest count whose upper tail is below alpha: the edge of the expected band. */
function criticalCount(n: number, p: number, alpha: number): number {
  let low = 0;
  let high = n + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (binomialUpperTail(mid, n, p) < alpha) high = mid;
    else low = mid + 1;
  }
  return low;
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

/** ln Γ(x) by the Lanczos approximation (g = 7, 9 terms): about 15 significant digits for x > 0. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
