/**
 * The detector state's cost to a scheduled run: every run (every 5 minutes on Lambda) loads the state from
 * `_state/`, judges its bucket (milliseconds) and saves the state again, so for a large fleet the state is
 * the run. 1,000 services with the default 7 days of history, each bucket with a p50 and a p95 as the view
 * gives them, and the peak memory of one load and save in a process of its own. Prints figures; asserts
 * nothing. `--services N` for another fleet size.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUCKET_SECONDS, type Bucket, Detector } from '../lib/insights/detect.js';
import { decodeState, encodeState } from '../lib/insights/scheduled.js';
import { Random } from '../lib/local/simulator/random.js';

const DAY = 86_400;

/** A detector that has judged `days` of `services` services' buckets. */
function detectorAfter(services: number, days: number): Detector {
  const random = new Random(42);
  const t0 = Math.floor(Date.UTC(2026, 10, 1) / 1000 / BUCKET_SECONDS) * BUCKET_SECONDS;
  const detector = new Detector({ historyDays: days });
  const level = Float64Array.from({ length: services }, () => 20 + random.next() * 2000);
  for (let i = 0; i < (days * DAY) / BUCKET_SECONDS; i++) {
    const t = t0 + i * BUCKET_SECONDS;
    const buckets: Bucket[] = [];
    for (let s = 0; s < services; s++) {
      const requests = Math.max(1, Math.round(level[s]! * (0.9 + 0.2 * random.next())));
      // Latencies as the view computes them from segment durations (seconds, to the microsecond).
      const p50 = Math.round((0.08 + 0.02 * random.next()) * 1e6) / 1e6;
      buckets.push({
        service: `svc-${s}`,
        bucket: t,
        requests,
        errors: Math.round(requests * 0.02 * random.next()),
        faults: Math.round(requests * 0.004 * random.next()),
        throttles: Math.round(requests * 0.001 * random.next()),
        p50,
        p95: Math.round((p50 * 2 + 0.05 * random.next()) * 1e6) / 1e6,
        latencyBins: null,
      });
    }
    detector.advance(t, buckets, i >= 12, false);
  }
  return detector;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Peak memory of a scheduled run's state work alone: a fresh process reads the saved state, restores the
 * detector and saves it again (the process's maximum resident set, from about 85 MiB at its start).
 */
function peakMemoryMiB(body: Buffer, days: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'detect-state-'));
  try {
    const file = join(dir, 'detector.json.gz');
    writeFileSync(file, body);
    const script = join(ROOT, 'bench/detect-state.ts');
    const out = execFileSync(
      process.execPath,
      [join(ROOT, 'bin/run-ts.mjs'), script, '--load-save', file, String(days)],
      { encoding: 'utf8' },
    );
    return Number(out.trim().split('\n').at(-1));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Medians of `rounds` of each step a scheduled run takes with the state. */
export function runDetectStateBenchmark(services = 1000, days = 7, rounds = 5) {
  const detector = detectorAfter(services, days);
  const steps: Record<string, number[]> = {};
  let bytes = 0;
  let body: Buffer = Buffer.alloc(0);
  const time = <T>(name: string, run: () => T): T => {
    const started = performance.now();
    const result = run();
    (steps[name] ??= []).push(performance.now() - started);
    return result;
  };
  for (let round = 0; round < rounds; round++) {
    body = time('save: serialize, JSON lines, gzip (encodeState)', () => encodeState(detector, []));
    time('load: gunzip, JSON lines, restore (decodeState)', () => decodeState(body, { historyDays: days }));
    bytes = body.length;
  }
  const ms = Object.fromEntries(Object.entries(steps).map(([name, values]) => [name, median(values)]));
  const total = Object.values(ms).reduce((sum, value) => sum + value, 0);
  return [
    ...Object.entries(steps).map(([name, values]) => ({
      step: name,
      'ms (median)': median(values).toFixed(0),
      rounds: values.map((v) => v.toFixed(0)).join(' '),
    })),
    {
      step: `a scheduled run's state: load + save (${services} services, ${days} days)`,
      'ms (median)': total.toFixed(0),
      rounds: `state ${(bytes / 2 ** 20).toFixed(1)} MiB saved; peak memory ${peakMemoryMiB(body, days).toFixed(0)} MiB in a process of its own`,
    },
  ];
}

const loadSave = process.argv.indexOf('--load-save');
if (loadSave !== -1) {
  // The child of peakMemoryMiB: one load and save, then its peak resident set in MiB.
  const { detector } = decodeState(readFileSync(process.argv[loadSave + 1]!), {
    historyDays: Number(process.argv[loadSave + 2]),
  });
  encodeState(detector, []);
  console.log(process.resourceUsage().maxRSS / 1024);
} else if (process.argv[1]?.endsWith('detect-state.ts')) {
  const services = process.argv.includes('--services')
    ? Number(process.argv[process.argv.indexOf('--services') + 1])
    : 1000;
  console.table(runDetectStateBenchmark(services));
}
