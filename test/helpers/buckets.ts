import { BUCKET_SECONDS, type Bucket } from '../../lib/insights/detect.js';
import { latencyBin } from '../../lib/insights/detectors.js';

export const T0 = 1_800_000_000 - (1_800_000_000 % BUCKET_SECONDS);
/** Epoch seconds of bucket i. */
export const at = (i: number) => T0 + i * BUCKET_SECONDS;

/** A service with `n` buckets of steady traffic (1% errors, a fault now and then); `shape(i)` overrides bucket i. */
export function series(
  service: string,
  n: number,
  shape: (i: number) => Partial<Bucket> = () => ({}),
): Bucket[] {
  return Array.from({ length: n }, (_, i) => ({
    service,
    bucket: at(i),
    requests: 200,
    errors: 2,
    faults: i % 10 === 0 ? 1 : 0,
    throttles: 0,
    p95: 0.2 + 0.01 * Math.sin(i),
    ...shape(i),
  }));
}

/**
 * A bucket of healthy requests (no failures) with these durations (seconds), its latency columns as
 * `service_buckets` computes them: nearest-rank p50 and p95 (DuckDB's quantile_disc) and the histogram by
 * `latencyBin`.
 */
export function healthy(
  durations: readonly number[],
): Pick<Bucket, 'requests' | 'errors' | 'faults' | 'throttles' | 'p50' | 'p95' | 'latencyBins'> {
  const sorted = [...durations].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)]!;
  const bins: Record<string, number> = {};
  for (const d of durations) bins[latencyBin(d)] = (bins[latencyBin(d)] ?? 0) + 1;
  return {
    requests: durations.length,
    errors: 0,
    faults: 0,
    throttles: 0,
    p50: rank(0.5),
    p95: rank(0.95),
    latencyBins: JSON.stringify(bins),
  };
}

/** n durations spread evenly (by quantile) over a log-normal with this median and p95 (seconds). */
export function durations(n: number, median: number, p95: number): number[] {
  const sigma = Math.log(p95 / median) / 1.6449;
  // Quantiles (i + 0.5)/n through the normal quantile (Acklam-free: a bisection on erf is plenty here).
  const z = (q: number) => {
    let low = -8;
    let high = 8;
    for (let k = 0; k < 60; k++) {
      const mid = (low + high) / 2;
      if (0.5 * (1 + erf(mid / Math.SQRT2)) < q) low = mid;
      else high = mid;
    }
    return (low + high) / 2;
  };
  return Array.from({ length: n }, (_, i) => median * Math.exp(sigma * z((i + 0.5) / n)));
}

/** Abramowitz–Stegun 7.1.26, |error| < 1.5e-7. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
