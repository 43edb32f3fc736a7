/**
 * An exploration, not the shipped detector: what a per-series noise model does on NAB (bench/README.md,
 * "Detector on NAB"). Prints figures; asserts nothing.
 *
 *   node bin/run-ts.mjs bench/nab-noise-model.ts
 *
 * Each point's surprise is a robust z-score against the shipped seasonal baseline (`baselineFor`: median
 * and MAD), and, as Numenta's anomaly likelihood does (numenta/nupic anomaly_likelihood.py, its published
 * defaults: a 10-point moving average, ~300 points of learning, a 1e-5 tail), a point is anomalous when the
 * moving average of those z-scores is that far out in the distribution of its own past averages: a series
 * that is always noisy learns that it is. Openings go through the shipped lifecycle (open after 2, close
 * after 3). Parameters were fixed from those defaults before the first run and not tuned on NAB's labels.
 * It needs a median and a MAD for every bucket (the band screens most buckets without one). The detector
 * now has it as an option (`latencyNoiseModel=1`, with a practical floor this exploration lacks), which
 * `npm run bench:detect` measures; this script keeps the model as first measured.
 *
 * Second, the same model and the shipped rule, series by series, on the simulator's labelled weeks (the
 * lakes `bench/detect-scenarios.ts` builds): each service's p95 per 5-minute bucket, and an opening counted
 * against the labelled incidents' times. NAB has seen both; this asks whether the model loses what the
 * simulator's incidents need (a latency step found within two buckets, decoys left alone).
 */
import { errorFunction, median as medianOf } from 'simple-statistics';
import { DETECTOR_DEFAULTS } from '../lib/insights/detectors.js';
import { readBuckets } from '../lib/insights/lake.js';
import { DuckDbEngine } from '../lib/query/duckdb-engine.js';
import {
  type NabDetector,
  openings,
  runNab,
  type Series,
  seriesStep,
  shippedLatencyRule,
} from './detect-nab.js';
import { scenarioWeeks } from './detect-scenarios.js';

/** Numenta's anomaly-likelihood defaults. */
const AVERAGING_WINDOW = 10;
const LEARNING_POINTS = 300;
const TAIL = 1e-5;
/** Points a baseline needs before a z-score means anything (the shipped latencyWarmupPoints). */
const MIN_BASELINE = 12;

function median(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Numenta's anomaly likelihood over a stream of surprise scores: whether each score's moving average is in
 * the far tail of the distribution of its own past averages.
 */
function likelihood(): (score: number) => boolean {
  const z: number[] = [];
  // Running sums of the past moving averages: their mean and standard deviation.
  let n = 0;
  let sum = 0;
  let squares = 0;
  return (score) => {
    z.push(score);
    const recent = z.slice(-AVERAGING_WINDOW);
    const average = recent.reduce((a, b) => a + b, 0) / recent.length;
    let anomalous = false;
    if (n >= LEARNING_POINTS) {
      const mean = sum / n;
      const sd = Math.sqrt(Math.max(squares / n - mean * mean, 0)) || 1e-9;
      anomalous = 0.5 * (1 - errorFunction((average - mean) / sd / Math.SQRT2)) < TAIL;
    }
    n++;
    sum += average;
    squares += average * average;
    return anomalous;
  };
}

/** The robust z-score of `value` against the seasonal baseline's median and MAD. */
function medianZ(value: number, baseline: readonly number[]): number {
  if (baseline.length < MIN_BASELINE) return 0;
  const sorted = [...baseline].sort((a, b) => a - b);
  const center = median(sorted);
  const mad = median(sorted.map((v) => Math.abs(v - center)).sort((a, b) => a - b)) * 1.4826;
  return Math.abs(value - center) / Math.max(mad, 0.01 * Math.abs(center), 1e-9);
}

export function noiseModel(series: Series): boolean[] {
  const judge = likelihood();
  return openings(series, (value, baseline) => judge(medianZ(value, baseline)));
}

/**
 * The same surprise in O(1) a point (sixteenth session: can the model be cheap?):
 * instead of a median and a MAD over the baseline's points, exponentially weighted estimates of the centre
 * and the spread, one pair per time-of-day slot (each point also updates its slot's two neighbours, the
 * shipped `seasonalWidthBuckets` of 1) and one pair of the recent points. Weights from the shipped pools,
 * fixed before the first run: 1/21 a seasonal update (3 points a day × 7 days), 2/(36 + 1) a recent one
 * (`recentBuckets`). The seasonal pair judges once the series is `seasonalMinDays` old and its slot has had
 * `latencyWarmupPoints` updates, as `baselineFor` switches. Robust by clipping: a point updates the centre
 * as if it were at most 3 spreads away (Huber), so an incident does not drag the baseline with it; the
 * spread is the mean absolute deviation × √(π/2) (σ for normal noise, as MAD × 1.4826 is). Same floor on
 * the spread, same likelihood.
 */
export function ewNoiseModel(series: Series): boolean[] {
  const judge = likelihood();
  const step = seriesStep(series);
  const slots = Math.max(1, Math.round(86_400 / step));
  const seasonal = {
    center: new Float64Array(slots),
    spread: new Float64Array(slots),
    n: new Int32Array(slots),
  };
  const recent = { center: 0, spread: 0, n: 0 };
  const first = series[0]?.time ?? 0;
  const o = DETECTOR_DEFAULTS;
  const update = (e: { center: number; spread: number; n: number }, value: number, alpha: number) => {
    if (e.n === 0) {
      e.center = value;
      e.spread = 0;
    } else {
      const limit = 3 * Math.max(e.spread, 0.01 * Math.abs(e.center), 1e-9);
      const clipped = Math.min(Math.max(value, e.center - limit), e.center + limit);
      e.spread += alpha * (Math.abs(clipped - e.center) * Math.sqrt(Math.PI / 2) - e.spread);
      e.center += alpha * (clipped - e.center);
    }
    e.n++;
  };
  let i = 0;
  return openings(series, (value) => {
    const time = series[i++]!.time;
    const slot = Math.floor((time % 86_400) / step) % slots;
    const old = time - first >= o.seasonalMinDays * 86_400 && seasonal.n[slot]! >= o.latencyWarmupPoints;
    const e = old
      ? { center: seasonal.center[slot]!, spread: seasonal.spread[slot]!, n: seasonal.n[slot]! }
      : recent;
    const z =
      e.n >= MIN_BASELINE
        ? Math.abs(value - e.center) / Math.max(e.spread, 0.01 * Math.abs(e.center), 1e-9)
        : 0;
    const anomalous = judge(z);
    for (const d of [-1, 0, 1]) {
      const s = (slot + d + slots) % slots;
      const pair = { center: seasonal.center[s]!, spread: seasonal.spread[s]!, n: seasonal.n[s]! };
      update(pair, value, 1 / 21);
      seasonal.center[s] = pair.center;
      seasonal.spread[s] = pair.spread;
      seasonal.n[s] = pair.n;
    }
    update(recent, value, 2 / 37);
    return anomalous;
  });
}

const BUCKET = 300;
/** An opening this long after an incident ends still counts as finding it (the lifecycle opens after 2). */
const GRACE = 2 * BUCKET;

/**
 * Series by series on the simulator's weeks: every service's p95, from buckets with requests enough for a
 * latency verdict (`latencyMinRequests`, as the shipped detector requires). An opening inside a latency
 * incident (or up to two buckets after it) finds it; one inside a decoy alerts it; one inside another kind
 * of incident (a fault burst also slows its callers) is counted apart; any other opening is false.
 */
async function onSimulator(detector: NabDetector, weeks: number) {
  let incidents = 0;
  let found = 0;
  let decoysAlerted = 0;
  let duringOther = 0;
  let falseOpenings = 0;
  const delays: number[] = [];
  const stepDelays: number[] = [];
  const rampDelays: number[] = [];
  for (const week of scenarioWeeks(weeks, '/tmp/xray-lake-bench-scenarios')) {
    const engine = await DuckDbEngine.open(week.root);
    const buckets = await readBuckets(engine).finally(() => engine.close());
    const byService = new Map<string, Series>();
    for (const b of buckets) {
      if (b.p95 === null || b.requests < DETECTOR_DEFAULTS.latencyMinRequests) continue;
      const series = byService.get(b.service) ?? [];
      series.push({ time: b.bucket, value: b.p95 });
      byService.set(b.service, series);
    }
    const openings: number[] = [];
    for (const series of byService.values()) {
      series.sort((a, b) => a.time - b.time);
      detector(series).forEach((opened, i) => opened && openings.push(series[i]!.time));
    }
    const spans = week.labels.incidents.map((i) => ({
      ...i,
      from: Date.parse(i.start) / 1000,
      to: Date.parse(i.end) / 1000 + GRACE,
    }));
    const latency = spans.filter((i) => i.category === 'latency' && !i.decoy);
    incidents += latency.length;
    for (const incident of latency) {
      const first = openings.filter((t) => t >= incident.from && t < incident.to).sort((a, b) => a - b)[0];
      if (first === undefined) continue;
      found++;
      const delay = Math.floor((first - incident.from) / BUCKET);
      delays.push(delay);
      (incident.shape === 'ramp' ? rampDelays : stepDelays).push(delay);
    }
    for (const t of openings) {
      const during = spans.filter((i) => t >= i.from && t < i.to);
      if (during.some((i) => i.category === 'latency' && !i.decoy)) continue;
      if (during.some((i) => i.decoy)) decoysAlerted++;
      else if (during.length) duringOther++;
      else falseOpenings++;
    }
  }
  return {
    'latency incidents found': `${found} / ${incidents}`,
    'median delay (buckets)': delays.length ? medianOf(delays) : '-',
    'delays, steps': stepDelays.join(' '),
    'delays, ramps': rampDelays.join(' '),
    'openings in decoys': decoysAlerted,
    'openings during other incidents': duringOther,
    'false openings': falseOpenings,
  };
}

const nab = (detector: NabDetector) => {
  const { thresholds: _shipped, ...figures } = runNab(detector).summary;
  return figures;
};
console.log(
  `robust z, ${AVERAGING_WINDOW}-point average, tail < ${TAIL} after ${LEARNING_POINTS} points of learning`,
);
console.table({
  'z against the seasonal median and MAD': nab(noiseModel),
  'z against O(1) weighted estimates': nab(ewNoiseModel),
});
console.table({
  'shipped rule, series by series': await onSimulator(shippedLatencyRule, 5),
  'noise model, series by series': await onSimulator(noiseModel, 5),
  'O(1) noise model, series by series': await onSimulator(ewNoiseModel, 5),
});
