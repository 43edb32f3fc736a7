import { BUCKET_SECONDS, type Bucket } from '../../lib/insights/detect.js';
import { probit } from 'simple-statistics';
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

/** Nearest rank: the ⌈n·p⌉-th smallest, which is what quantile_disc (our approx_percentile on DuckDB) returns. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)]!;
}

/**
 * A bucket of healthy requests (no failures) with these durations (seconds), its latency columns as
 * `service_buckets` computes them: nearest-rank p50 and p95 (DuckDB's quantile_disc) and the histogram by
 * `latencyBin`.
 */
export function healthy(
  durations: readonly number[],
): Pick<Bucket, 'requests' | 'errors' | 'faults' | 'throttles' | 'p50' | 'p95' | 'latencyBins'> {
  const bins: Record<string, number> = {};
  for (const d of durations) bins[latencyBin(d)] = (bins[latencyBin(d)] ?? 0) + 1;
  return {
    requests: durations.length,
    errors: 0,
    faults: 0,
    throttles: 0,
    p50: percentile(durations, 0.5),
    p95: percentile(durations, 0.95),
    latencyBins: JSON.stringify(bins),
  };
}

/** n durations spread evenly (by quantile) over a log-normal with this median and p95 (seconds). */
export function durations(n: number, median: number, p95: number): number[] {
  const sigma = Math.log(p95 / median) / probit(0.95);
  return Array.from({ length: n }, (_, i) => median * Math.exp(sigma * probit((i + 0.5) / n)));
}
