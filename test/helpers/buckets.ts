import { BUCKET_SECONDS, type Bucket } from '../../lib/insights/detect.js';

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
