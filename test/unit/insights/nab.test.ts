import { describe, expect, it } from 'vitest';
import { NAB_PROFILES, normalizedScore, scaledSigmoid, scoreFile } from '../../../lib/insights/nab.js';

const none = (n: number) => Array.from({ length: n }, () => false);
const at = (n: number, ...indices: number[]) => none(n).map((_, i) => indices.includes(i));

describe('NAB scoring', () => {
  it('has the published sigmoid values', () => {
    expect(scaledSigmoid(-1)).toBeCloseTo(0.98661, 5);
    expect(scaledSigmoid(-0.5)).toBeCloseTo(0.84828, 5);
    expect(scaledSigmoid(0)).toBe(0);
    expect(scaledSigmoid(1)).toBeCloseTo(-0.98661, 5);
    expect(scaledSigmoid(3)).toBe(-1);
  });

  it('scores 0 for the null detector and 100 for detecting every window at its start', () => {
    const windows = [
      { start: 400, end: 449 },
      { start: 700, end: 749 },
    ];
    const nothing = scoreFile(none(1000), windows);
    expect(nothing.raw).toBe(-2);
    expect(normalizedScore([nothing])).toBe(0);
    // A detection at a window's first row sits at relative position −(width+1)/width, a hair before −1.
    const perfect = scoreFile(at(1000, 400, 700), windows);
    expect(normalizedScore([perfect])).toBeGreaterThan(99.9);
    expect(perfect).toMatchObject({ truePositives: 2, falseNegatives: 0, falsePositives: 0, delays: [0, 0] });
  });

  it('rewards early detection over late, and counts a window once however many detections it has', () => {
    const windows = [{ start: 400, end: 499 }];
    const early = scoreFile(at(1000, 410), windows).raw;
    const late = scoreFile(at(1000, 490), windows).raw;
    expect(early).toBeGreaterThan(late);
    expect(scoreFile(at(1000, 410, 420, 430), windows).raw).toBeCloseTo(early, 12);
    expect(scoreFile(at(1000, 490), windows).delays).toEqual([90]);
  });

  it('charges false positives by the profile’s weight, less just after a window, and ignores probation', () => {
    const windows = [{ start: 400, end: 499 }];
    const base = scoreFile(none(1000), windows).raw;
    const far = scoreFile(at(1000, 900), windows);
    expect(far.raw - base).toBeCloseTo(scaledSigmoid(400 / 99) * NAB_PROFILES.standard.fpWeight, 12);
    const justAfter = scoreFile(at(1000, 510), windows).raw - base;
    expect(justAfter).toBeGreaterThan(far.raw - base);
    expect(scoreFile(at(1000, 50), windows).raw).toBe(base); // row 50 is in the first 15%
    const beforeAnyWindow = scoreFile(at(1000, 200), windows).raw - base;
    expect(beforeAnyWindow).toBeCloseTo(-NAB_PROFILES.standard.fpWeight, 12);
  });
});
