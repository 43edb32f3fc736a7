import { describe, expect, it } from 'vitest';
import { checkNumber } from '../../../lib/bounded-number.js';
import { DETECTOR_DEFAULTS } from '../../../lib/insights/detectors.js';
import { LIFECYCLE_DEFAULTS } from '../../../lib/insights/lifecycle.js';
import { parseThresholds, THRESHOLD_BOUNDS, ThresholdsError } from '../../../lib/insights/thresholds.js';

describe('parseThresholds', () => {
  it('splits overrides between the detector and the lifecycle', () => {
    expect(parseThresholds(' latencyAlpha=0.001, openAfter = 3,rateMinFailures=5 ', '--thresholds')).toEqual({
      detector: { latencyAlpha: 0.001, rateMinFailures: 5 },
      lifecycle: { openAfter: 3 },
    });
    expect(parseThresholds('', '--thresholds')).toEqual({ detector: {}, lifecycle: {} });
  });

  it.each([
    ['latencyAlfa=0.01', /^--thresholds: unknown threshold "latencyAlfa" \(one of: rateAlpha, /],
    ['toString=1', /^--thresholds: unknown threshold "toString"/],
    ['latencyAlpha=2', /^--thresholds: latencyAlpha: expected a number from 1e-12 to 1, got "2"/],
    ['openAfter=1.5', /^--thresholds: openAfter: expected a whole number from 1 to 288/],
    ['ratePriorRequests=0', /^--thresholds: ratePriorRequests: expected a number from 1 to/],
    ['latencyZ', /^--thresholds: expected name=value, got "latencyZ"/],
    ['latencyZ=1=2', /^--thresholds: expected name=value/],
    ['latencyZ=3,latencyZ=4', /^--thresholds: "latencyZ" is set twice/],
    [
      'ratePriorFailures=2,ratePriorRequests=1.5',
      /^--thresholds: ratePriorFailures \(2\) must be fewer than ratePriorRequests \(1\.5\)/,
    ],
    [
      'ratePriorFailures=200',
      /^--thresholds: ratePriorFailures \(200\) must be fewer than ratePriorRequests \(100\)/,
    ],
  ])('names the threshold that is wrong: %s', (text, message) => {
    expect(() => parseThresholds(text, '--thresholds')).toThrow(ThresholdsError);
    expect(() => parseThresholds(text, '--thresholds')).toThrow(message);
  });

  it('allows every default it has a bound for, and has a bound for every threshold there is', () => {
    const defaults: Record<string, number> = { ...DETECTOR_DEFAULTS, ...LIFECYCLE_DEFAULTS };
    expect(Object.keys(THRESHOLD_BOUNDS).sort()).toEqual(Object.keys(defaults).sort());
    for (const [name, value] of Object.entries(defaults))
      expect(checkNumber(value, THRESHOLD_BOUNDS[name as keyof typeof THRESHOLD_BOUNDS]), name).toEqual({
        value,
      });
  });
});
