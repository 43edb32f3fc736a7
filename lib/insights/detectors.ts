import { probit } from 'simple-statistics';
import { LatencyBinsError } from './errors.js';

/**
 * Anomaly detectors: pure functions from a bucket's observation and its history to a verdict. No I/O,
 * no clock; every threshold is a named, documented, overridable field of {@link DETECTOR_DEFAULTS}.
 *
 * False alarms across many services × metrics × buckets are controlled in two stages: each detector
 * tests at a small per-bucket significance, and the insight lifecycle opens an insight only when an
 * anomaly persists for consecutive buckets (so per-series false alarms go as alpha², about 1e-8 a bucket).
 */

export const DETECTOR_DEFAULTS = {
  /** Per-bucket significance of the rate test (upper tail of the beta-binomial predictive, see {@link rateScore}). */
  rateAlpha: 1e-4,
  /** Fewer failures than this in a bucket never make a rate anomaly: a quiet service must not flap on one. */
  rateMinFailures: 3,
  /**
   * Prior pseudo-counts of the baseline (failures, requests): the rate's Beta prior, Beta(0.5, 99.5). A
   * service that never failed in its history does not get a baseline rate of exactly 0, against which any
   * failure would be infinitely unlikely; and the rate test weighs the baseline's uncertainty (the
   * beta-binomial predictive, see {@link rateScore}), so the prior must be weak: it stands for 100 requests
   * of evidence, which a service's own history outweighs within its first hour or two. At 1,000 (the
   * earlier default) it outweighed a young service's quiet first hour (0 errors in 161 requests for a
   * service whose normal is 2%), the baseline came out at 0.04%, and the morning's ordinary errors opened
   * false insights; at 300 some still did, at 100 and 20 none (demo weeks ending 03:50–04:05 UTC, every
   * other labelled week unchanged, bench/README.md).
   */
  ratePriorFailures: 0.5,
  ratePriorRequests: 100,
  /**
   * Buckets with traffic a service needs before any rate verdict: until then every bucket is learned as
   * normal. Without it a busy service whose normal is 2% errors would be judged against the prior, found
   * anomalous bucket after bucket, and never learn its normal.
   */
  rateWarmupBuckets: 12,
  /**
   * A bucket that took the low-traffic window test (its failures unusual on their own, its service too quiet
   * for the bucket test) and was found normal joins the rate baseline this many buckets later (30 minutes),
   * not at once. A quiet service's failing incident is seen by the window, over several buckets; its first
   * buckets, each normal on its own, would otherwise teach the baseline the incident's rate before the
   * window could see them together (a service failing 1–2 of its 4 requests a bucket after 160 clean ones
   * then alternated anomalous and normal buckets and never opened, with the weak prior above). Every other
   * bucket joins at once: a busy service's baseline, and the detector's speed, are as they were.
   */
  rateBaselineDelayBuckets: 6,
  /** Robust z-score (in MAD-scaled standard deviations) above which latency is anomalous. */
  latencyZ: 4,
  /**
   * ... and at least this much above the baseline median (1 = double): statistically and practically slow.
   * Set on our own labelled scenarios (two demo seeds, bench/README.md): at 0.25 and 0.5 the p95 of quiet
   * night buckets (tens of requests) crossed the band several times a day across the fleet; at 1 a few
   * times a week, and every labelled slowdown was still caught.
   */
  latencyMinIncrease: 1,
  /** The spread is floored at this fraction of the median, so a very steady series does not alert on noise. */
  latencyMinRelativeSpread: 0.05,
  /** Baseline points needed before any latency verdict (the warm-up). */
  latencyWarmupPoints: 12,
  /**
   * Buckets with fewer requests give no latency verdict of their own (the latency window, see
   * `latencyWindowBuckets`, may judge them with their neighbours). Below about 15 a bucket's p95 is its
   * maximum or next to it, and at night it crossed double the baseline once a day per service on our
   * scenarios; 15 removed most of those (precision 60–80% → 78–88% on three demo weeks) with no labelled slowdown
   * missed, where 17 already missed one (bench/README.md).
   */
  latencyMinRequests: 15,
  /**
   * The band's upper edge widens for small buckets: high × (1 + margin / √requests), since a p95 from n
   * requests is uncertain in proportion to 1/√n. Off by default: on three demo weeks 0.25 took precision
   * to 100% / 86% / 100% but missed a night-time 2.5× slowdown in one of them (bench/README.md); a user
   * who would rather miss than be woken can set it.
   */
  latencySampleMargin: 0,
  /**
   * Share of a normal bucket's requests slower than the baseline p95: 5%, by the definition of a p95.
   * The null rate of the latency count test (see `latencyAlpha`).
   */
  latencyTailRate: 0.05,
  /**
   * Per-bucket significance of the latency count test: a p95 above the band is anomalous only when the
   * number of requests slower than the baseline p95 is also improbable at `latencyTailRate` (binomial
   * upper tail). In a bucket of 17 requests, one or two slow outliers make the p95 (nearly the maximum
   * there) cross any band, but 2 of 17 above the baseline p95 has a 21% chance (a whole distribution
   * slowed 2.5× puts about 40% of its requests there, for the simulator's log-normal latency). A slowdown
   * too mild to pass this in a thin bucket is the median test's (`latencyMedianIncrease`). Only applies
   * when the bucket carries its latency histogram
   * (`service_buckets.latency_bins`); set 1 to turn the test off.
   */
  latencyAlpha: 1e-2,
  /**
   * The median test (for buckets with a histogram and p50): a bucket whose p50 is this much above the
   * baseline median (0.5 = 1.5×) and has more of its requests above that median than chance allows
   * (`latencyAlpha`, half of them normally) is slow, even when its p95 stays inside a band that a thin
   * bucket's noisy p95 makes wide. On our scenarios this found a 1.8× night-time slowdown of 15–20
   * requests a bucket that the p95 band missed.
   */
  latencyMedianIncrease: 0.5,
  /**
   * The latency window: a bucket whose p50 is above the median test's line (`latencyMedianIncrease`) but
   * whose own requests cannot bear it out (too few, or too few of them slow) is judged with the buckets of
   * the last this-many (30 minutes) pooled: their histograms together must put more than half of their
   * requests above the line, and more above the baseline median than chance allows (`latencyWindowAlpha`).
   * At night a service's slowdown comes 5–15 requests a bucket: one bucket says little, six say it
   * plainly (the demo's worker ramp, 2–4× its median from midnight, was missed in weeks ending 04:05–04:40
   * UTC; bench/README.md). Only buckets with a histogram take part.
   */
  latencyWindowBuckets: 6,
  /** Significance of the latency window's count test: stricter than `latencyAlpha`, as windows overlap. */
  latencyWindowAlpha: 1e-5,
  /**
   * 1 turns on the latency noise model (see {@link latencyNoiseStep}), which judges a series' p95 against
   * its own noise instead of the fixed band. Off by default for its cost, not its results: on our labelled
   * scenarios it opens the same insights at the same times, on NAB's real AWS series it opens 33 insights
   * outside the labelled windows where the band opens 308 (NAB score 35.9 against 18.2, both with
   * `ownRateAlpha`; 47 against 582 without it), but it needs a baseline's median and MAD for every service
   * and bucket, which the band's screens skip. Kept sorted (seasonal.ts) they cost far less than gathered
   * and selected each time, yet a 14-day replay of 1,000 services still takes about 4–5× the band's time
   * (a scheduled run judges one bucket: a few milliseconds either way). bench/README.md has the runs.
   */
  latencyNoiseModel: 0,
  /**
   * The noise model's learning: once a series has this many judged buckets behind it, its p95 is judged
   * against its own noise instead of the fixed band (`latencyZ`, `latencyMinIncrease`), which judges it
   * until then. 300 buckets (25 hours of 5-minute buckets with traffic) is Numenta's anomaly-likelihood
   * learning period.
   */
  latencyNoiseLearningPoints: 300,
  /**
   * ... and the p95 must also be this much above the baseline median (0.5 = 1.5×, as the median test's
   * `latencyMedianIncrease`): the model alone flags a steady service's p95 moving from 225 to 240 ms for
   * ten buckets, which is improbable and of no interest (without this floor it raised 1,751 insight events
   * on the speed benchmark's 1,000 flat services in 14 days, where the band then raised 386).
   */
  latencyNoiseMinIncrease: 0.5,
  /** Buckets in the noise model's moving average of surprises (Numenta's default, 10). */
  latencyNoiseWindow: 10,
  /**
   * How many earlier averages the noise model remembers: past this many (never fewer than
   * `latencyNoiseLearningPoints`), each new average pushes out an average's worth of the old ones, so a
   * service whose noise changes for good (a deploy, a new dependency) is learned anew in about this many
   * buckets instead of never. 8,640 buckets (30 days of 5-minute buckets) is Numenta's window of history
   * (`historicWindowSize`); theirs is a sliding window, this its exponential form (a few numbers a series).
   */
  latencyNoiseHistory: 8640,
  /**
   * Per-bucket significance of the noise model: the moving average is anomalous when it stands further
   * above the series' earlier averages than a normal tail of this size (Numenta's default, 1e-5).
   */
  latencyNoiseAlpha: 1e-5,
  /**
   * Each series' own anomaly rate (every category): an insight opens only when the anomalous buckets among
   * the last `ownRateWindowBuckets` are improbable (binomial upper tail under `ownRateAlpha`) at the rate
   * the series is found anomalous in normal times, over its history (buckets judged while its insight is
   * open left out). A series that crosses its band twice a day on noise needs more than two anomalous
   * buckets in an hour to alert; a steady one still alerts on two. Only openings are held back: verdicts,
   * baselines and anomaly scores are the detectors'. It costs nothing per bucket (one bit a bucket in the
   * ring, counted only when a series would open); on NAB's real AWS series it halved the band's openings
   * outside the labelled windows, 582 to 308, for 27 of 49 windows instead of 32 (bench/README.md).
   * Set `ownRateAlpha` to 1 to turn it off.
   */
  ownRateWindowBuckets: 12,
  ownRateAlpha: 1e-4,
  /**
   * Prior pseudo-counts of the series' own anomaly rate (anomalous buckets, judged buckets): a series with
   * no history is taken to be anomalous 0.5 times in 1,000 buckets (0.05%), so two anomalous buckets in an
   * hour are enough for its first insight.
   */
  ownRatePriorAnomalies: 0.5,
  ownRatePriorBuckets: 1000,
  /** Days of history at the same time of day before the baseline becomes seasonal. */
  seasonalMinDays: 3,
  /** Buckets either side of the same time of day that count as "the same time" on earlier days. */
  seasonalWidthBuckets: 1,
  /** Recent buckets used as the baseline until the seasonal one is available. */
  recentBuckets: 36,
  /**
   * Low-traffic aggregation: when a bucket's expected failures are below `rateMinFailures` (the per-bucket
   * test has hardly any power), the last this-many buckets with requests are also tested together, so a
   * quiet service failing steadily is caught over half an hour instead of never. Buckets with requests, not
   * buckets: at night a quiet service gets a request every 10–20 minutes, and six 5-minute buckets held
   * two requests, never the `rateMinFailures` failures the test needs however many failed (the demo's
   * low-traffic incident went unseen in 5 of 12 weeks ending at 01:30–03:30 UTC, bench/README.md).
   * Bounded by `rateWindowMaxBuckets`. An anomalous window whose failures fall in `openAfter` buckets or
   * more opens its insight at once (night weeks 58/60 → 60/60, bench/README.md).
   */
  rateWindowBuckets: 6,
  /**
   * ... looking back no further than this many buckets (24: two hours), so the window is recent evidence
   * even for a service with a request an hour. With a request in every bucket the two windows are the same.
   */
  rateWindowMaxBuckets: 24,
  /** Significance of that aggregated test: stricter, as it looks at overlapping windows. */
  rateWindowAlpha: 1e-5,
  /**
   * Hysteresis: while a series' insight is open, it stays anomalous at thresholds relaxed by this factor
   * (latency z and minimum increase times it, rate alpha to the power of it), so an incident hovering near
   * the threshold is one insight, not a string of them.
   */
  holdFactor: 0.5,
  /**
   * 1 judges every caller → callee edge of the service graph as a series of its own (the `edge_buckets`
   * view; named `caller -> callee`, see EDGE_SERIES_SEPARATOR in detect.ts), besides each service: one
   * caller's calls failing or slowing are then found where they are too small a share of the callee's
   * requests to move the callee's own rates. An edge's insight names the callee as its root cause, and
   * "calls from caller to callee" in its Summary. Off by default for its cost: the detector's state, its
   * time and its memory grow with the series judged (edges to a service with one caller are not judged:
   * see edgeBucketsBeyondServices in lake.ts).
   */
  edgeSeries: 0,
} as const;

export type DetectorOptions = { -readonly [K in keyof typeof DETECTOR_DEFAULTS]: number };

/** A detector's verdict on one bucket. */
export interface Verdict {
  state: 'normal' | 'anomalous' | 'warming-up' | 'insufficient-data';
  /** How unusual, comparable across buckets of one detector (−log10 p for rates, z for latency). */
  score: number;
  /** For latency: which quantile `observed` and the band are (the p95 unless the median test decided). */
  quantile?: 'p50';
  observed: number;
  expectedLow: number;
  expectedHigh: number;
}

/**
 * Faults, errors or throttles against request volume: is `failures` of `requests` more than the baseline
 * allows? The upper tail P(X ≥ failures) of the beta-binomial predictive given the baseline (see
 * {@link rateScore}). The same shift is detectable on a busy service and ignored on a quiet one, as X-Ray
 * Insights' expected band conditioned on traffic is, and a baseline of a few hundred requests is trusted as
 * far as it can be, no further.
 */
export function rateVerdict(
  observation: { requests: number; failures: number },
  baseline: { requests: number; failures: number },
  options: Partial<DetectorOptions> = {},
): Verdict {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const { requests: n, failures: k } = observation;
  const a = baseline.failures + o.ratePriorFailures;
  const b = baseline.requests - baseline.failures + o.ratePriorRequests - o.ratePriorFailures;
  if (n === 0)
    return { state: 'insufficient-data', score: 0, observed: 0, expectedLow: 0, expectedHigh: a / (a + b) };
  const score = rateScore(k, n, a, b);
  return {
    state: rateAnomalous(k, score, o.rateAlpha, o) ? 'anomalous' : 'normal',
    score,
    observed: k / n,
    expectedLow: 0,
    expectedHigh: (criticalCount(n, o.rateAlpha, (c) => betaBinomialUpperTail(c, n, a, b)) - 1) / n,
  };
}

/** The baseline failure rate, with the prior pseudo-counts (see {@link DETECTOR_DEFAULTS}): the posterior mean. */
export function baselineRate(
  failures: number,
  requests: number,
  o: DetectorOptions = DETECTOR_DEFAULTS,
): number {
  return (failures + o.ratePriorFailures) / (requests + o.ratePriorRequests);
}

/**
 * The rate test's score: −log10 P(X ≥ k) for X the failures among `n` requests under the beta-binomial
 * predictive, the binomial averaged over the baseline rate's posterior Beta(a, b) (a = failures +
 * `ratePriorFailures`, b = the rest of the baseline's requests + the prior's). Its mean is the binomial's at
 * the baseline rate a/(a + b), its variance the binomial's times (a + b + n)/(a + b + 1): a baseline of
 * 100,000 requests judges a bucket of 1,000 as the binomial would (+1%), one of 161 quiet night requests
 * knows it has not seen the service's normal rate yet. 0 at or below the expected count, without the tail.
 */
export function rateScore(k: number, n: number, a: number, b: number): number {
  if (n === 0 || k * (a + b) <= n * a) return 0;
  return -Math.log10(Math.max(betaBinomialUpperTail(k, n, a, b), 1e-300));
}

/**
 * −log10 of the binomial P(X ≥ k | n, p): how unusual `k` of `n` are at a known rate `p` (the latency count
 * test's, whose rate is fixed by definition). 0 at or below the expected count, without the tail.
 */
export function binomialScore(k: number, n: number, p: number): number {
  if (n === 0 || k <= n * p) return 0;
  return -Math.log10(Math.max(binomialUpperTail(k, n, p), 1e-300));
}

/**
 * An upper bound of {@link binomialScore}(k, n, p) for p < k/n < 1 (Infinity elsewhere), from Ash's lower
 * bound of the binomial tail, P(X ≥ k) ≥ exp(−n·D(k/n ‖ p)) / √(8k(1 − k/n)) (R. Ash, Information
 * Theory, 1965, lemma 4.7.2): two logarithms instead of the exact tail's log-gammas and sum, so the hot
 * loop can prove a bucket normal without it. Also a bound of {@link rateScore}(k, n, a, b) at p = a/(a + b)
 * when a + b ≥ n and k − 1 ≥ p(n − 1): the predictive's tail, the binomial's averaged over the Beta, is
 * then the larger (not in general: a Beta wide against the bucket puts its mass near 0 and far out, and
 * the tail just above the mean can be the smaller). Randomized tests check both bounds.
 */
export function rateScoreCap(k: number, n: number, p: number): number {
  const a = k / n;
  if (!(a > p) || a >= 1) return Number.POSITIVE_INFINITY;
  const divergence = a * Math.log(a / p) + (1 - a) * Math.log((1 - a) / (1 - p));
  return (n * divergence + 0.5 * Math.log(8 * k * (1 - a))) * Math.LOG10E;
}

/** The rate decision, shared by {@link rateVerdict} and the detector's hot loop so they never disagree. */
export function rateAnomalous(
  k: number,
  score: number,
  alpha: number,
  o: DetectorOptions = DETECTOR_DEFAULTS,
): boolean {
  return k >= o.rateMinFailures && score > -Math.log10(alpha);
}

/**
 * Latency (a bucket's p95, say) against a robust baseline: median and MAD of the baseline points, the MAD
 * scaled to a standard deviation (×1.4826) and floored. Only slowdowns are anomalies. With the bucket's
 * latency histogram (`bins`), a p95 above the band must also be borne out by the count of slow requests
 * (see `latencyAlpha`): a p95 is one order statistic, the count weighs every request.
 */
export function latencyVerdict(
  observation: { value: number; requests: number; bins?: string | null },
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
  const {
    center,
    spread,
    low: expectedLow,
    high: expectedHigh,
  } = latencyBand(baseline, baseline.length, o, observation.requests);
  if (observation.requests < o.latencyMinRequests)
    return { state: 'insufficient-data', score: 0, observed: observation.value, expectedLow, expectedHigh };
  const slow =
    observation.value > expectedHigh &&
    (!observation.bins ||
      latencyCountScore(observation.bins, center, o.latencyTailRate) > -Math.log10(o.latencyAlpha));
  return {
    state: slow ? 'anomalous' : 'normal',
    score: (observation.value - center) / spread,
    observed: observation.value,
    expectedLow,
    expectedHigh,
  };
}

/**
 * The median test for a thin bucket (see `latencyMedianIncrease`): its p50 against the median of the
 * baseline's p50s, borne out by the count of its requests slower than that median (half of them, normally).
 * Needs the bucket's histogram; its score is the count test's −log10 p.
 */
export function latencyMedianVerdict(
  observation: { p50: number; requests: number; bins: string },
  baseline: readonly number[],
  options: Partial<DetectorOptions> = {},
): Verdict & { quantile: 'p50' } {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const base = { observed: observation.p50, expectedLow: 0, quantile: 'p50' as const };
  if (baseline.length < o.latencyWarmupPoints)
    return { ...base, state: 'warming-up', score: 0, expectedHigh: Number.POSITIVE_INFINITY };
  const center = medianInPlace(Float64Array.from(baseline), baseline.length);
  const expectedHigh = center * (1 + o.latencyMedianIncrease);
  if (observation.requests < o.latencyMinRequests)
    return { ...base, state: 'insufficient-data', score: 0, expectedHigh };
  const score = latencyCountScore(observation.bins, center, 0.5);
  const slow = observation.p50 > expectedHigh && score > -Math.log10(o.latencyAlpha);
  return { ...base, state: slow ? 'anomalous' : 'normal', score, expectedHigh };
}

/**
 * The latency window's verdict (see `latencyWindowBuckets`) on a bucket whose median is `p50`: the histograms
 * `window` (this bucket's and the previous buckets') pooled, against the baseline median `center`. Anomalous
 * when the bucket's p50 is above center·(1 + `latencyMedianIncrease`) (the line), and the pool holds at least
 * `latencyMinRequests` requests, more than half of them above the line (the pooled median above it too),
 * and more of them above `center` than half beyond `latencyWindowAlpha` (binomial tail).
 */
export function latencyWindowVerdict(
  p50: number,
  window: readonly string[],
  center: number,
  options: Partial<DetectorOptions> = {},
): Verdict & { quantile: 'p50' } {
  const o = { ...DETECTOR_DEFAULTS, ...options };
  const line = center * (1 + o.latencyMedianIncrease);
  let total = 0;
  let aboveCenter = 0;
  let aboveLine = 0;
  for (const bins of window) {
    const pairs = parseLatencyBins(bins);
    const atCenter = countAbove(pairs, center);
    total += atCenter.total;
    aboveCenter += atCenter.above;
    aboveLine += countAbove(pairs, line).above;
  }
  const base = { observed: p50, expectedLow: 0, expectedHigh: line, quantile: 'p50' as const };
  if (total < o.latencyMinRequests) return { ...base, state: 'insufficient-data', score: 0 };
  const score = binomialScore(Math.floor(aboveCenter), total, 0.5);
  const slow = p50 > line && aboveLine > total / 2 && score > -Math.log10(o.latencyWindowAlpha);
  return { ...base, state: slow ? 'anomalous' : 'normal', score };
}

/**
 * The expected latency band of the first `length` baseline points: median and MAD (scaled to a standard
 * deviation by 1.4826 and floored), high = max(center + z·spread, center·(1 + minIncrease)). Reorders
 * `points` in place (quickselect): the hot loop passes a scratch buffer and allocates nothing.
 */
export function latencyBand(
  points: readonly number[] | Float64Array,
  length: number,
  o: DetectorOptions = DETECTOR_DEFAULTS,
  requests = Number.POSITIVE_INFINITY,
): { center: number; spread: number; low: number; high: number } {
  const values = points instanceof Float64Array ? points : Float64Array.from(points);
  const center = medianInPlace(values, length);
  for (let i = 0; i < length; i++) values[i] = Math.abs(values[i]! - center);
  return latencyBandAround(center, medianInPlace(values, length), o, requests);
}

/**
 * {@link latencyBand} from a baseline's median (`center`) and its MAD (the median of absolute deviations,
 * unscaled), for callers that keep them some other way (the noise model's sorted windows, seasonal.ts).
 */
export function latencyBandAround(
  center: number,
  mad: number,
  o: DetectorOptions = DETECTOR_DEFAULTS,
  requests = Number.POSITIVE_INFINITY,
): { center: number; spread: number; low: number; high: number } {
  const spread = Math.max(1.4826 * mad, o.latencyMinRelativeSpread * center, 1e-6);
  return {
    center,
    spread,
    low: Math.max(0, center - o.latencyZ * spread),
    high:
      Math.max(center + o.latencyZ * spread, center * (1 + o.latencyMinIncrease)) *
      (1 + o.latencySampleMargin / Math.sqrt(Math.max(1, requests))),
  };
}

/**
 * The latency noise model's cells for one series in a Float64Array, from `at`: how many moving averages
 * it has seen, their sum and sum of squares, how many surprises the window holds and where the next goes,
 * then the window itself ({@link noiseStateSize} cells in all).
 */
export const NOISE = { COUNT: 0, SUM: 1, SQUARES: 2, FILLED: 3, CURSOR: 4, WINDOW: 5 } as const;

/** Cells a series' noise state takes (see {@link NOISE}). */
export function noiseStateSize(o: Pick<DetectorOptions, 'latencyNoiseWindow'> = DETECTOR_DEFAULTS): number {
  return NOISE.WINDOW + o.latencyNoiseWindow;
}

/**
 * One step of a series' latency noise model, after Numenta's anomaly likelihood (numenta/nupic,
 * `anomaly_likelihood.py`): `z` is the bucket's surprise (its robust z-score against the latency baseline),
 * and the model keeps the moving average of the last `latencyNoiseWindow` surprises and the mean and
 * spread of the earlier such averages (the last `latencyNoiseHistory` of them, about). Returns how many
 * standard deviations the current average stands above the earlier ones: the bucket is anomalous beyond
 * `probit(1 − latencyNoiseAlpha)`. NaN while the series is learning (fewer than
 * `latencyNoiseLearningPoints` averages), when only the band can judge.
 *
 * Why it beats a fixed band on real series: a service whose p95 is always noisy learns that it is, and a
 * steady one learns that it is steady. On NAB's AWS CloudWatch and known-cause series the band opened 582
 * insights outside the labelled windows, this model alone 99 for the same recall, and the detector's use
 * of it (with `latencyNoiseMinIncrease`) 47 for less recall (bench/README.md). The earlier averages are
 * the last `latencyNoiseHistory` or so, exponentially weighted past that: a long incident, or a service
 * whose noise changes, is not remembered for good.
 * State lives in `state[at .. at + noiseStateSize)`, plain numbers, so it is saved and restored exactly.
 */
export function latencyNoiseStep(
  state: Float64Array,
  at: number,
  z: number,
  o: Pick<
    DetectorOptions,
    'latencyNoiseWindow' | 'latencyNoiseLearningPoints' | 'latencyNoiseHistory'
  > = DETECTOR_DEFAULTS,
): number {
  const window = o.latencyNoiseWindow;
  const cursor = state[at + NOISE.CURSOR]!;
  state[at + NOISE.WINDOW + cursor] = z;
  state[at + NOISE.CURSOR] = cursor + 1 === window ? 0 : cursor + 1;
  const filled = Math.min(state[at + NOISE.FILLED]! + 1, window);
  state[at + NOISE.FILLED] = filled;
  // Summed afresh (a window's worth of additions) rather than kept running: no rounding drifts over months.
  let sum = 0;
  for (let i = 0; i < filled; i++) sum += state[at + NOISE.WINDOW + i]!;
  const average = sum / filled;
  const count = state[at + NOISE.COUNT]!;
  let standing = Number.NaN;
  if (count >= o.latencyNoiseLearningPoints) {
    const mean = state[at + NOISE.SUM]! / count;
    const variance = state[at + NOISE.SQUARES]! / count - mean * mean;
    standing = (average - mean) / Math.max(Math.sqrt(Math.max(variance, 0)), 1e-9);
  }
  // Forgetting: once `history` averages are in, the sums are scaled down to history − 1 averages' worth
  // before the new one goes in (a state saved with a longer memory is brought down the same way).
  const history = Math.max(o.latencyNoiseHistory, o.latencyNoiseLearningPoints);
  let kept = count;
  if (count >= history) {
    kept = history - 1;
    state[at + NOISE.SUM]! *= kept / count;
    state[at + NOISE.SQUARES]! *= kept / count;
  }
  state[at + NOISE.COUNT] = kept + 1;
  state[at + NOISE.SUM]! += average;
  state[at + NOISE.SQUARES]! += average * average;
  return standing;
}

/**
 * The test of each series' own anomaly rate (see `ownRateAlpha`): whether `anomalies` anomalous buckets
 * among the `buckets` of the recent window are improbable at the rate the series was anomalous before
 * them (`pastAnomalies` in `pastBuckets`, smoothed by the prior).
 */
export function ownRateImprobable(
  anomalies: number,
  buckets: number,
  pastAnomalies: number,
  pastBuckets: number,
  o: Pick<
    DetectorOptions,
    'ownRateAlpha' | 'ownRatePriorAnomalies' | 'ownRatePriorBuckets'
  > = DETECTOR_DEFAULTS,
): boolean {
  const rate = (pastAnomalies + o.ownRatePriorAnomalies) / (pastBuckets + o.ownRatePriorBuckets);
  return binomialUpperTail(anomalies, buckets, rate) < o.ownRateAlpha;
}

/**
 * The noise model's critical standing for a significance: probit(1 − alpha), by simple-statistics'
 * approximation (4.251 at 1e-5, where the exact quantile is 4.265: a tail of about 1.06e-5).
 */
export function noiseCritical(alpha: number): number {
  return probit(1 - alpha);
}

/**
 * Latency histogram resolution: bin j holds durations in [2^(j/B), 2^((j+1)/B)) milliseconds, B bins an
 * octave, durations under 1 ms in bin 0. The `service_buckets` view computes the same bins
 * (`floor(2 * log2(greatest(duration, 0.001) * 1000))`); a test runs both on the same data.
 */
export const LATENCY_BINS_PER_OCTAVE = 2;

/** The latency histogram bin of a duration in seconds (see {@link LATENCY_BINS_PER_OCTAVE}). */
export function latencyBin(seconds: number): number {
  return Math.floor(LATENCY_BINS_PER_OCTAVE * Math.log2(Math.max(seconds, 0.001) * 1000));
}

/**
 * How many of a bucket's requests took longer than `seconds`, from its latency histogram (the JSON object
 * `{"bin": count}` of `service_buckets.latency_bins`), and of how many. Exact at bin edges; inside the bin
 * holding `seconds` its count is shared in proportion to the log-distance, as durations are spread about
 * evenly over so narrow a log-interval.
 */
export function requestsAbove(bins: string, seconds: number): { above: number; total: number } {
  return countAbove(parseLatencyBins(bins), seconds);
}

/** {@link requestsAbove} of a histogram already parsed, for one read of it to serve several thresholds. */
function countAbove(pairs: readonly [number, number][], seconds: number): { above: number; total: number } {
  const position = LATENCY_BINS_PER_OCTAVE * Math.log2(Math.max(seconds, 0.001) * 1000);
  const bin = Math.floor(position);
  let above = 0;
  let total = 0;
  for (const [j, count] of pairs) {
    total += count;
    if (j > bin) above += count;
    else if (j === bin) above += count * (1 - (position - bin));
  }
  return { above, total };
}

/** The (bin, count) pairs of a `latency_bins` text; a {@link LatencyBinsError} naming it when it is not one. */
export function parseLatencyBins(bins: string): [number, number][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bins);
  } catch {
    throw new LatencyBinsError(bins, 'is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LatencyBinsError(bins, 'is not a {"bin": count} object');
  return Object.entries(parsed).map(([key, value]) => {
    const j = Number(key);
    const count = Number(value);
    if (!Number.isInteger(j) || !(count >= 0))
      throw new LatencyBinsError(bins, `has a bad entry "${key}": ${String(value)}`);
    return [j, count];
  });
}

/**
 * The latency count test's score: −log10 P(X ≥ above | total, rate), X binomial, `above` the requests
 * slower than `threshold` seconds. How improbable so many slow requests are if, as normal, a share `rate`
 * of them is slower than `threshold` (5% for the baseline p95, half for its median).
 */
export function latencyCountScore(bins: string, threshold: number, rate: number): number {
  const { above, total } = requestsAbove(bins, threshold);
  return binomialScore(Math.floor(above), total, rate);
}

/**
 * The median of `values[0..length)` by quickselect, reordering them. Equal to simple-statistics' `median`
 * (a test checks), but linear and allocation-free: it runs millions of times in a replay.
 */
export function medianInPlace(values: Float64Array, length: number): number {
  if (length === 0) return Number.NaN;
  const upper = select(values, length, length >> 1);
  if (length % 2 === 1) return upper;
  // The lower middle is the largest value left of the upper one after the partition.
  let lower = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length >> 1; i++) if (values[i]! > lower) lower = values[i]!;
  return (lower + upper) / 2;
}

/** Hoare's quickselect: the k-th smallest of values[0..length), leaving smaller ones to its left. */
function select(values: Float64Array, length: number, k: number): number {
  let left = 0;
  let right = length - 1;
  while (left < right) {
    const pivot = values[(left + right) >> 1]!;
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const swap = values[i]!;
        values[i] = values[j]!;
        values[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k]!;
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

/**
 * P(X ≥ k) for X ~ BetaBinomial(n, a, b): the binomial averaged over p ~ Beta(a, b). Summed from pmf(k) by
 * the ratio pmf(i+1)/pmf(i), as {@link binomialUpperTail}. With a = 0 the posterior is all at p = 0 (no
 * failure has any chance), with b = 0 all at 1.
 */
export function betaBinomialUpperTail(k: number, n: number, a: number, b: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (!(a > 0)) return 0;
  if (!(b > 0)) return 1;
  let term = Math.exp(logChoose(n, k) + logBeta(k + a, n - k + b) - logBeta(a, b));
  let sum = term;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * ((i + a) / (n - i - 1 + b));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, sum);
}

/** The smallest count whose upper tail (`tail`) is below alpha: the edge of the expected band. */
function criticalCount(n: number, alpha: number, tail: (k: number) => number): number {
  let low = 0;
  let high = n + 1;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (tail(mid) < alpha) high = mid;
    else low = mid + 1;
  }
  return low;
}

function logBeta(a: number, b: number): number {
  return logGamma(a) + logGamma(b) - logGamma(a + b);
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = Float64Array.of(
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
);
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * ln Γ(x) for x > 0: from 10 on by Stirling's series to the x⁻⁹ term (the first term left out is below
 * 2e-14 there; one logarithm, where the rate test's tails call this nine times a bucket), below 10 by the
 * Lanczos approximation (g = 7, 9 terms): about 15 significant digits either way.
 */
export function logGamma(x: number): number {
  if (x >= 10) {
    const r = 1 / x;
    const r2 = r * r;
    const series = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))));
    return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series;
  }
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}
