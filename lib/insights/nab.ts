/**
 * The Numenta Anomaly Benchmark's scoring, implemented from its published description and the behaviour of
 * its reference scorer (numenta/NAB, nab/sweeper.py: scaled sigmoid, probation, window handling), so
 * xray-lake's detectors are scored the way published NAB results are. Only the scoring method is
 * reproduced; no NAB code is included.
 */

/** NAB's cost matrices; "standard" is the one published leaderboards quote. */
export const NAB_PROFILES = {
  standard: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 1.0 },
  rewardLowFP: { tpWeight: 1.0, fpWeight: 0.22, fnWeight: 1.0 },
  rewardLowFN: { tpWeight: 1.0, fpWeight: 0.11, fnWeight: 2.0 },
} as const;
export type NabProfile = { tpWeight: number; fpWeight: number; fnWeight: number };

/** The first 15% of a file (at most 750 rows) is probation: detections there are not scored. */
export const PROBATION_PERCENT = 0.15;
const PROBATION_CAP_ROWS = PROBATION_PERCENT * 5000;

/** 2·sigmoid(−5x) − 1: +0.987 at a window's left edge (x = −1), 0 at its right edge, → −1 far past it. */
export function scaledSigmoid(relativePosition: number): number {
  if (relativePosition >= 3) return -1;
  return 2 / (1 + Math.exp(5 * relativePosition)) - 1;
}

/** A labelled window, as row indices (inclusive). */
export interface Window {
  start: number;
  end: number;
}

export interface FileScore {
  /** Raw score: Σ windows (max TP or −FN) + Σ false positives. */
  raw: number;
  /** What a detector that never fires scores, and what a perfect one scores, on this file. */
  nullScore: number;
  perfectScore: number;
  truePositives: number;
  falseNegatives: number;
  /** Detections outside windows (after probation). */
  falsePositives: number;
  /** Per detected window: rows from the window's start to the first detection. */
  delays: number[];
}

/**
 * Scores one file's detections (`detected[i]` for row i) against its windows, under a profile.
 */
export function scoreFile(
  detected: readonly boolean[],
  windows: readonly Window[],
  profile: NabProfile = NAB_PROFILES.standard,
): FileScore {
  const rows = detected.length;
  const probation = Math.min(Math.floor(PROBATION_PERCENT * rows), PROBATION_CAP_ROWS);
  const maxTP = scaledSigmoid(-1);
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const windowScore = sorted.map(() => -profile.fnWeight);
  const firstDetection: (number | undefined)[] = sorted.map(() => undefined);
  let falsePositiveScore = 0;
  let falsePositives = 0;

  let next = 0; // index of the next window not yet passed
  let previous: Window | undefined;
  for (let i = 0; i < rows; i++) {
    while (next < sorted.length && sorted[next]!.end < i) previous = sorted[next++];
    const window = next < sorted.length && sorted[next]!.start <= i ? sorted[next]! : undefined;
    if (!detected[i] || i < probation) continue;
    if (window) {
      const width = window.end - window.start + 1;
      const position = -(window.end - i + 1) / width;
      const score = (scaledSigmoid(position) * profile.tpWeight) / maxTP;
      windowScore[next] = Math.max(windowScore[next]!, score);
      firstDetection[next] ??= i;
    } else {
      const position = previous ? Math.abs(previous.end - i) / (previous.end - previous.start) : 3;
      falsePositiveScore += scaledSigmoid(position) * profile.fpWeight;
      falsePositives++;
    }
  }
  const scored = sorted.filter((w) => w.end >= probation).length;
  const truePositives = firstDetection.filter((d) => d !== undefined).length;
  return {
    raw: windowScore.reduce((a, b) => a + b, 0) + falsePositiveScore,
    nullScore: -profile.fnWeight * sorted.length,
    perfectScore: profile.tpWeight * sorted.length,
    truePositives,
    falseNegatives: scored - truePositives,
    falsePositives,
    delays: firstDetection.flatMap((d, k) => (d === undefined ? [] : [d - sorted[k]!.start])),
  };
}

/** NAB's normalized score over a corpus: 100 × (raw − null) / (perfect − null), summed over files. */
export function normalizedScore(files: readonly FileScore[]): number {
  const raw = files.reduce((s, f) => s + f.raw, 0);
  const nullScore = files.reduce((s, f) => s + f.nullScore, 0);
  const perfect = files.reduce((s, f) => s + f.perfectScore, 0);
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}
