/**
 * The detector on data nobody here wrote: the Numenta Anomaly Benchmark's realAWSCloudwatch and
 * realKnownCause series (../shared/benchmarks/nab, MIT), scored by NAB's standard profile
 * (lib/insights/nab.ts). Prints figures; asserts nothing. `npm run bench:detect`.
 *
 * The detector is xray-lake's latency detector with its production defaults (DETECTOR_DEFAULTS), never
 * tuned on these labels, applied two-sided (NAB's anomalies include drops): each point is judged against
 * the baseline of the points before it (seasonal once there are days enough, recent before that).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DETECT_DEFAULTS } from '../lib/insights/detect.js';
import {
  baselineFor,
  DETECTOR_DEFAULTS,
  latencyBand,
  latencyVerdict,
  latencyNoiseStep,
  noiseCritical,
  noiseStateSize,
  ownRateImprobable,
} from '../lib/insights/detectors.js';
import { initialSeriesState, LIFECYCLE_DEFAULTS, step as advance } from '../lib/insights/lifecycle.js';
import { type FileScore, normalizedScore, scoreFile, type Window } from '../lib/insights/nab.js';

const NAB = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'benchmarks', 'nab');
const CORPORA = ['realAWSCloudwatch', 'realKnownCause'];
/** History kept for baselines: eight days covers the seasonal look-back (seasonalMinDays + margin). */
const HISTORY_SECONDS = 8 * 86_400;
/** The series' own anomaly rate is counted over the detector's ring: its default history. */
const OWN_RATE_SECONDS = DETECT_DEFAULTS.historyDays * 86_400;

/** A NAB series: one value per row. */
export type Series = { time: number; value: number }[];
/** A detector under NAB: for each row, whether an insight opened there. */
export type NabDetector = (series: Series) => boolean[];

function readSeries(path: string): Series {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [timestamp, value] = line.split(',');
      return { time: Date.parse(`${timestamp!.replace(' ', 'T')}Z`) / 1000, value: Number(value) };
    });
}

/**
 * Where insights open on one series, as xray-lake alerts: `judge` says whether a point is anomalous against
 * the baseline of the points before it (seasonal once there are days enough, recent before that), and the
 * lifecycle opens after consecutive anomalous points and stays quiet until it closes. NAB charges every
 * detection, so scoring raw per-point verdicts would score something xray-lake never sends.
 *
 * With `ownRate` an opening is also held back, as the detector holds it (`ownRateAlpha`), until the
 * anomalous points among the last `ownRateWindowBuckets` are improbable at the rate the series was
 * anomalous over the detector's history (its `historyDays`) before them, points judged while open left out.
 */
export function openings(
  series: Series,
  judge: (value: number, baseline: number[]) => boolean,
  ownRate = false,
): boolean[] {
  const o = DETECTOR_DEFAULTS;
  const step = seriesStep(series);
  const detected: boolean[] = [];
  const anomalousAt: boolean[] = [];
  const openAt: boolean[] = [];
  let state = initialSeriesState();
  let start = 0;
  let rateStart = 0;
  for (let i = 0; i < series.length; i++) {
    const time = series[i]!.time;
    while (series[start]!.time < time - HISTORY_SECONDS) start++;
    while (series[rateStart]!.time < time - OWN_RATE_SECONDS) rateStart++;
    const baseline = baselineFor(series.slice(start, i), time, step);
    const anomalous = judge(series[i]!.value, baseline);
    let next = advance(state, anomalous);
    if (next.transition === 'opened' && ownRate) {
      let [k, n, anomalies, judged] = [1, 1, 0, 0];
      for (let j = rateStart; j < i; j++) {
        if (openAt[j]) continue;
        const a = anomalousAt[j] ? 1 : 0;
        if (j > i - o.ownRateWindowBuckets) [k, n] = [k + a, n + 1];
        else [anomalies, judged] = [anomalies + a, judged + 1];
      }
      if (!ownRateImprobable(k, n, anomalies, judged, o))
        next = { state: { ...next.state, open: false }, transition: 'none' };
    }
    anomalousAt.push(anomalous);
    openAt.push(state.open);
    state = next.state;
    detected.push(next.transition === 'opened');
  }
  return detected;
}

function band(value: number, baseline: number[]): boolean {
  const verdict = latencyVerdict({ value, requests: Number.MAX_SAFE_INTEGER }, baseline);
  return verdict.state !== 'warming-up' && (value > verdict.expectedHigh || value < verdict.expectedLow);
}

/** The shipped latency rule (the band, with each series' own anomaly rate) on one series, two-sided. */
export function shippedLatencyRule(series: Series): boolean[] {
  return openings(series, band, DETECTOR_DEFAULTS.ownRateAlpha < 1);
}

/** The band alone, as shipped before the series' own anomaly rate (`ownRateAlpha=1`). */
export function bandAloneRule(series: Series): boolean[] {
  return openings(series, band);
}

/**
 * The same with the latency noise model on (`latencyNoiseModel=1`, lib/insights/detectors.ts): the band
 * judges until the model has learned, then the model with its practical floor, two-sided here too.
 */
export function noiseModelRule(series: Series): boolean[] {
  const o = DETECTOR_DEFAULTS;
  const noise = new Float64Array(noiseStateSize(o));
  const critical = noiseCritical(o.latencyNoiseAlpha);
  return openings(
    series,
    (value, baseline) => {
      const band =
        baseline.length >= o.latencyWarmupPoints ? latencyBand(baseline, baseline.length, o) : undefined;
      // Two-sided, as everywhere on NAB: its anomalies include drops.
      const standing = latencyNoiseStep(noise, 0, band ? Math.abs(value - band.center) / band.spread : 0, o);
      if (!band) return false;
      if (standing !== standing) return value > band.high || value < band.low;
      return Math.abs(value - band.center) > band.center * o.latencyNoiseMinIncrease && standing > critical;
    },
    o.ownRateAlpha < 1,
  );
}

/** The series' sampling interval (seconds): the median gap between its first rows. */
export function seriesStep(series: Series): number {
  return series.length > 1 ? median(series.slice(1, 200).map((p, i) => p.time - series[i]!.time)) : 300;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 300;
}

/** Scores a detector (by default the shipped latency rule, as above) on the NAB files. */
export function runNab(detector: NabDetector = shippedLatencyRule) {
  const windows = JSON.parse(readFileSync(join(NAB, 'labels', 'combined_windows.json'), 'utf8')) as Record<
    string,
    [string, string][]
  >;
  const files: (FileScore & { name: string; rows: number; detections: number })[] = [];
  for (const corpus of CORPORA) {
    for (const name of readdirSync(join(NAB, 'data', corpus))
      .filter((f) => f.endsWith('.csv'))
      .sort()) {
      const series = readSeries(join(NAB, 'data', corpus, name));
      const labelled = (windows[`${corpus}/${name}`] ?? []).map(([from, to]): Window => {
        const a = Date.parse(`${from.replace(' ', 'T')}Z`) / 1000;
        const b = Date.parse(`${to.replace(' ', 'T')}Z`) / 1000;
        const startIndex = series.findIndex((p) => p.time >= a);
        let endIndex = series.length - 1;
        while (endIndex > 0 && series[endIndex]!.time > b) endIndex--;
        return { start: startIndex, end: endIndex };
      });
      const detected = detector(series);
      files.push({
        name: `${corpus}/${name}`,
        rows: series.length,
        detections: detected.filter(Boolean).length,
        ...scoreFile(detected, labelled),
      });
    }
  }
  const windowsTotal = files.reduce((n, f) => n + f.truePositives + f.falseNegatives, 0);
  const tp = files.reduce((n, f) => n + f.truePositives, 0);
  const fp = files.reduce((n, f) => n + f.falsePositives, 0);
  const delays = files.flatMap((f) => f.delays).sort((a, b) => a - b);
  return {
    files,
    summary: {
      'NAB standard score': normalizedScore(files).toFixed(1),
      files: files.length,
      'windows detected (recall)': `${tp} / ${windowsTotal} (${((100 * tp) / windowsTotal).toFixed(0)}%)`,
      'detections outside windows': fp,
      'window precision (detected windows / (detected windows + false detections))': `${((100 * tp) / Math.max(1, tp + fp)).toFixed(0)}%`,
      'median delay (rows from window start)': delays[Math.floor(delays.length / 2)] ?? '-',
      thresholds: `latencyZ ${DETECTOR_DEFAULTS.latencyZ}, minIncrease ${DETECTOR_DEFAULTS.latencyMinIncrease}, warm-up ${DETECTOR_DEFAULTS.latencyWarmupPoints}, own rate ${DETECTOR_DEFAULTS.ownRateAlpha} over ${DETECTOR_DEFAULTS.ownRateWindowBuckets}, open after ${LIFECYCLE_DEFAULTS.openAfter}, close after ${LIFECYCLE_DEFAULTS.closeAfter}`,
    },
  };
}

if (process.argv[1]?.endsWith('detect-nab.ts')) {
  const { files, summary } = runNab();
  console.table(
    files.map((f) => ({
      file: f.name,
      rows: f.rows,
      detections: f.detections,
      tp: f.truePositives,
      fn: f.falseNegatives,
      fp: f.falsePositives,
      raw: f.raw.toFixed(2),
    })),
  );
  console.table(summary);
}
