/**
 * The layout of a service's history ring (see ServiceHistory in detect.ts): one slot per bucket, its fields
 * side by side as 8 float32 cells, so recording or reading a bucket touches one cache line. Shared by the
 * detector and the seasonal windows of its latency noise model (seasonal.ts), which read the same ring.
 * Plain literal exports, not an object: the hot loops index with them millions of times.
 */

/** The bucket's index (epoch seconds / BUCKET_SECONDS); 0 for a slot never written. */
export const TIME = 0;
export const REQUESTS = 1;
/** Failures of category c (fault, error, throttle) at FAULTS + c. */
export const FAULTS = 2;
/** The bucket's p95 and p50 in seconds, NaN for none. */
export const P95 = 5;
export const P50 = 6;
/** The bucket's bits: bit c set when category c was normal (3 is latency; see OPEN_BITS in detect.ts). */
export const NORMAL = 7;
/** Cells a slot. */
export const STRIDE = 8;
/** The NORMAL bit set when the bucket's latency was judged normal: only those join latency baselines. */
export const LATENCY_NORMAL = 8;
