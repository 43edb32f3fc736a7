import { checkNumber, type NumberBounds } from '../bounded-number.js';
import { DETECTOR_DEFAULTS, type DetectorOptions } from './detectors.js';
import { InsightsError } from './errors.js';
import type { LifecycleOptions } from './lifecycle.js';

/** A bad `--thresholds` / `DETECT_THRESHOLDS` entry, naming where it came from and which threshold. */
export class ThresholdsError extends InsightsError {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

type ThresholdName = keyof DetectorOptions | keyof LifecycleOptions;

const ALPHA: NumberBounds = { min: 1e-12, max: 1 };
const BUCKETS: NumberBounds = { min: 1, max: 8640, integer: true };

/**
 * What each threshold may be set to: ranges where the detector stays meaningful (an alpha is a
 * probability; a count of buckets is whole; a prior needs requests, or a service without history would
 * divide by zero). The defaults and what each means are in DETECTOR_DEFAULTS and LIFECYCLE_DEFAULTS.
 */
export const THRESHOLD_BOUNDS: Record<ThresholdName, NumberBounds> = {
  rateAlpha: ALPHA,
  rateMinFailures: { min: 1, max: 1e6, integer: true },
  ratePriorFailures: { min: 0, max: 1e6 },
  ratePriorRequests: { min: 1, max: 1e9 },
  rateBaselineDelayBuckets: { min: 0, max: 288, integer: true },
  rateWarmupBuckets: { min: 0, max: 8640, integer: true },
  latencyZ: { min: 0, max: 100 },
  latencyMinIncrease: { min: 0, max: 100 },
  latencyMinRelativeSpread: { min: 0, max: 10 },
  latencyWarmupPoints: BUCKETS,
  latencyMinRequests: { min: 1, max: 1e9, integer: true },
  latencySampleMargin: { min: 0, max: 100 },
  latencyTailRate: { min: 1e-6, max: 0.5 },
  latencyAlpha: ALPHA,
  latencyMedianIncrease: { min: 0, max: 100 },
  latencyWindowBuckets: { min: 1, max: 288, integer: true },
  latencyWindowAlpha: ALPHA,
  latencyNoiseModel: { min: 0, max: 1, integer: true },
  edgeSeries: { min: 0, max: 1, integer: true },
  latencyNoiseLearningPoints: { min: 1, max: 1e9, integer: true },
  latencyNoiseMinIncrease: { min: 0, max: 100 },
  latencyNoiseWindow: { min: 1, max: 288, integer: true },
  latencyNoiseAlpha: ALPHA,
  latencyNoiseHistory: { min: 1, max: 1e9, integer: true },
  ownRateWindowBuckets: { min: 1, max: 288, integer: true },
  ownRateAlpha: ALPHA,
  ownRatePriorAnomalies: { min: 0, max: 1e6 },
  ownRatePriorBuckets: { min: 1, max: 1e9 },
  seasonalMinDays: { min: 1, max: 30, integer: true },
  seasonalWidthBuckets: { min: 0, max: 12, integer: true },
  recentBuckets: BUCKETS,
  rateWindowBuckets: { min: 1, max: 288, integer: true },
  rateWindowMaxBuckets: { min: 1, max: 2016, integer: true },
  rateWindowAlpha: ALPHA,
  holdFactor: { min: 0.01, max: 1 },
  openAfter: { min: 1, max: 288, integer: true },
  closeAfter: { min: 1, max: 288, integer: true },
  closeSilentBuckets: { min: 1, max: 8640, integer: true },
  updateImpactRatio: { min: 1.01, max: 1000 },
  newNormalAfterBuckets: { min: 0, max: 8640, integer: true },
};

/**
 * Parses `name=value,name=value` (any threshold of DETECTOR_DEFAULTS or LIFECYCLE_DEFAULTS) into the
 * overrides the detector and the lifecycle take. `field` names the flag or variable in errors. Empty text
 * is no override.
 */
export function parseThresholds(
  text: string,
  field: string,
): { detector: Partial<DetectorOptions>; lifecycle: Partial<LifecycleOptions> } {
  const detector: Partial<DetectorOptions> = {};
  const lifecycle: Partial<LifecycleOptions> = {};
  const seen = new Set<string>();
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [name, raw, ...rest] = entry.split('=').map((p) => p.trim());
    if (!name || raw === undefined || rest.length > 0)
      throw new ThresholdsError(field, `expected name=value, got "${entry}"`);
    if (!Object.hasOwn(THRESHOLD_BOUNDS, name))
      throw new ThresholdsError(
        field,
        `unknown threshold "${name}" (one of: ${Object.keys(THRESHOLD_BOUNDS).join(', ')})`,
      );
    if (seen.has(name)) throw new ThresholdsError(field, `"${name}" is set twice`);
    seen.add(name);
    const checked = checkNumber(raw, THRESHOLD_BOUNDS[name as ThresholdName]);
    if ('problem' in checked) throw new ThresholdsError(field, `${name}: ${checked.problem}`);
    if (Object.hasOwn(DETECTOR_DEFAULTS, name)) detector[name as keyof DetectorOptions] = checked.value;
    else lifecycle[name as keyof LifecycleOptions] = checked.value;
  }
  // The rate prior is a Beta prior in pseudo-counts: its failures must be fewer than its requests.
  const priorFailures = detector.ratePriorFailures ?? DETECTOR_DEFAULTS.ratePriorFailures;
  const priorRequests = detector.ratePriorRequests ?? DETECTOR_DEFAULTS.ratePriorRequests;
  if (!(priorFailures < priorRequests))
    throw new ThresholdsError(
      field,
      `ratePriorFailures (${priorFailures}) must be fewer than ratePriorRequests (${priorRequests}): together they are a prior failure rate`,
    );
  return { detector, lifecycle };
}
