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
 * It needs a median and a MAD for every bucket (the shipped detector screens most buckets without one), so
 * it is not a drop-in change: see the README for what integrating it would cost.
 */
import { errorFunction } from 'simple-statistics';
import { baselineFor } from '../lib/insights/detectors.js';
import { initialSeriesState, LIFECYCLE_DEFAULTS, step } from '../lib/insights/lifecycle.js';
import { runNab, type Series, seriesStep } from './detect-nab.js';

/** Numenta's anomaly-likelihood defaults. */
const AVERAGING_WINDOW = 10;
const LEARNING_POINTS = 300;
const TAIL = 1e-5;
/** Points a baseline needs before a z-score means anything (the shipped latencyWarmupPoints). */
const MIN_BASELINE = 12;
const HISTORY_SECONDS = 8 * 86_400;

function median(sorted: readonly number[]): number {
  return sorted[Math.floor(sorted.length / 2)]!;
}

function noiseModel(series: Series): boolean[] {
  const stepSeconds = seriesStep(series);
  const detected: boolean[] = [];
  const z: number[] = [];
  // Running sums of the past moving averages: their mean and standard deviation.
  let n = 0;
  let sum = 0;
  let squares = 0;
  let state = initialSeriesState();
  let start = 0;
  for (let i = 0; i < series.length; i++) {
    while (series[start]!.time < series[i]!.time - HISTORY_SECONDS) start++;
    const baseline = baselineFor(series.slice(start, i), series[i]!.time, stepSeconds);
    let score = 0;
    if (baseline.length >= MIN_BASELINE) {
      const sorted = [...baseline].sort((a, b) => a - b);
      const center = median(sorted);
      const mad = median(sorted.map((v) => Math.abs(v - center)).sort((a, b) => a - b)) * 1.4826;
      score = Math.abs(series[i]!.value - center) / Math.max(mad, 0.01 * Math.abs(center), 1e-9);
    }
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
    const next = step(state, anomalous, LIFECYCLE_DEFAULTS);
    state = next.state;
    detected.push(next.transition === 'opened');
  }
  return detected;
}

const { summary } = runNab(noiseModel);
const { thresholds: _shipped, ...figures } = summary;
console.table({
  ...figures,
  model: `robust z against the seasonal baseline, ${AVERAGING_WINDOW}-point average, tail < ${TAIL} after ${LEARNING_POINTS} points`,
});
