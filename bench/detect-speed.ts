/**
 * Detection speed: 1,000 services × 14 days of 5-minute buckets × 4 metrics (fault, error, throttle rates
 * and p95) through the real Detector (baselines, hysteresis, lifecycle, grouping), on one core. The
 * buckets are built from typed arrays into reused objects, so what is timed is the detector. Timed with
 * the anomaly scores computed (as a scheduled run publishing metrics does) and without (a replay). Prints
 * figures; asserts nothing. Target (issue #5): under 1 s.
 */
import { BUCKET_SECONDS, type Bucket, Detector } from '../lib/insights/detect.js';
import type { DetectorOptions } from '../lib/insights/detectors.js';
import { Random } from '../lib/local/simulator/random.js';

export function runDetectSpeed(
  services = 1000,
  days = 14,
  score = true,
  options: Partial<DetectorOptions> = {},
) {
  const buckets = (days * 86_400) / BUCKET_SECONDS;
  const random = new Random(42);
  const t0 = Math.floor(Date.UTC(2026, 10, 1) / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;
  // Per service: traffic level and a daily cycle; 1% of services have an incident somewhere.
  const level = Float64Array.from({ length: services }, () => 20 + random.next() * 2000);
  const incidentAt = Int32Array.from({ length: services }, () =>
    random.next() < 0.01 ? Math.floor(random.next() * buckets) : -1,
  );
  // The shape readBuckets gives (the same fields in the same order), so the detector's hot code sees the
  // object layout it sees in production; this model has no median or histogram, so both stay null (the
  // band alone judges latency, as for a lake written before service_buckets carried them).
  const objects: Bucket[] = Array.from({ length: services }, (_, s) => ({
    service: `svc-${s}`,
    bucket: 0,
    requests: 0,
    errors: 0,
    faults: 0,
    throttles: 0,
    p50: null,
    p95: 0,
    latencyBins: null,
  }));
  const edges = Array.from({ length: services - 1 }, (_, s) => ({
    caller: `svc-${Math.floor(s / 4)}`,
    callee: `svc-${s + 1}`,
  }));
  // The buckets are drawn before timing (one column per field, bucket-major), so what is timed is the
  // detector reading them, not the random draws.
  const cells = buckets * services;
  const requests = new Float64Array(cells);
  const errors = new Float64Array(cells);
  const faults = new Float64Array(cells);
  const p95 = new Float64Array(cells);
  for (let i = 0; i < buckets; i++) {
    const t = t0 + i * BUCKET_SECONDS;
    const daily = 0.6 + 0.4 * Math.sin((2 * Math.PI * (t % 86_400)) / 86_400);
    for (let s = 0; s < services; s++) {
      const k = i * services + s;
      const n = Math.max(1, Math.round(level[s]! * daily * (0.9 + 0.2 * random.next())));
      const failing = incidentAt[s]! >= 0 && i >= incidentAt[s]! && i < incidentAt[s]! + 12;
      requests[k] = n;
      errors[k] = Math.round(n * 0.01 * random.next() * 2);
      faults[k] = failing ? Math.round(n * 0.2) : Math.round(n * 0.002 * random.next() * 2);
      p95[k] = (0.2 + 0.05 * random.next()) * (failing ? 3 : 1);
    }
  }
  const detector = new Detector({ detector: options });
  detector.addEdges(edges);
  let events = 0;
  const start = performance.now();
  for (let i = 0; i < buckets; i++) {
    const t = t0 + i * BUCKET_SECONDS;
    for (let s = 0; s < services; s++) {
      const b = objects[s]!;
      const k = i * services + s;
      b.bucket = t;
      b.requests = requests[k]!;
      b.errors = errors[k]!;
      b.faults = faults[k]!;
      b.throttles = Math.round(errors[k]! * 0.1);
      b.p95 = p95[k]!;
    }
    events += detector.advance(t, objects, i >= 12, score).length;
  }
  const seconds = (performance.now() - start) / 1000;
  const evaluations = services * buckets * 4;
  return {
    services,
    days,
    'anomaly scores': score ? 'computed (a scheduled run, metrics on)' : 'not computed (a replay)',
    'latency judged by': options.latencyNoiseModel ? 'noise model' : 'band',
    'bucket × metric evaluations': evaluations.toLocaleString('en-US'),
    seconds: seconds.toFixed(2),
    'evaluations / s': Math.round(evaluations / seconds).toLocaleString('en-US'),
    'insight events': events,
    'heap MiB': (process.memoryUsage().heapUsed / 2 ** 20).toFixed(0),
    'state MiB (JSON)': (JSON.stringify(detector.state()).length / 2 ** 20).toFixed(1),
  };
}

/**
 * `runs` timings of one configuration: the median's row, with every run's seconds beside it. One run is not a
 * figure on this machine: the same code measured 0.9–1.3 s from one run to the next (bench/README.md).
 */
function repeated(runs: number, run: () => ReturnType<typeof runDetectSpeed>) {
  const results = Array.from({ length: runs }, run);
  const sorted = [...results].sort((a, b) => Number(a.seconds) - Number(b.seconds));
  return {
    ...sorted[Math.floor((runs - 1) / 2)]!,
    runs: runs === 1 ? '1' : `${runs}: ${results.map((r) => r.seconds).join(' ')}`,
  };
}

/** Both ways a detector runs (scheduled runs publishing AnomalyScore metrics, replays that do not), and a
 * replay with the latency noise model on. Medians of several runs. */
export const runDetectSpeeds = () => [
  repeated(3, () => runDetectSpeed(1000, 14, true)),
  repeated(5, () => runDetectSpeed(1000, 14, false)),
  repeated(3, () => runDetectSpeed(1000, 14, false, { latencyNoiseModel: 1 })),
];

if (process.argv[1]?.endsWith('detect-speed.ts')) console.table(runDetectSpeeds());
