/**
 * `xray-lake verify` over a lake of simulated traffic (bench/lake-builder.ts, built once and reused): its
 * time, and the heap it holds for the duplicate check per trace. Prints figures; asserts nothing.
 *
 *   node --expose-gc bin/run-ts.mjs bench/verify.ts [--days 7] [--rpm 14] [--lake DIR]
 */
import { existsSync } from 'node:fs';
import { DEFAULT_SCENARIO } from '../lib/local/simulator/scenario.js';
import { READ_AHEAD_PAIRS, verifyLake } from '../lib/lake/verify.js';
import type { ObjectStore } from '../lib/store/object-store.js';
import { FsStore } from '../lib/store/fs-store.js';
import { buildLake } from './lake-builder.js';

const arg = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
};

/** Three timed runs of verifyLake over `days` of traffic at `rpm`; the heap held at the scan's end. */
export async function runVerifyBenchmark(days = 7, rpm = 14, lake = `/tmp/xray-lake-bench-verify-${days}d`) {
  const end = Date.UTC(2026, 10, 20) / 1000;
  if (!existsSync(lake))
    buildLake(lake, {
      scenario: { ...DEFAULT_SCENARIO, traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: rpm } },
      incidents: [],
      seed: 7,
      from: end - days * 86_400,
      to: end,
    });
  const store = new FsStore(lake);
  const gc = (globalThis as { gc?: () => void }).gc;
  const seconds: number[] = [];
  let held = 0;
  let report: Awaited<ReturnType<typeof verifyLake>> | undefined;
  for (let run = 0; run < 3; run++) {
    gc?.();
    const base = process.memoryUsage().heapUsed;
    const started = performance.now();
    report = await verifyLake(store, {
      // At the last part the ids of every trace are held: collected, what is left is theirs.
      onProgress: (done, total) => {
        if (done !== total || !gc) return;
        gc();
        held = process.memoryUsage().heapUsed - base;
      },
    });
    seconds.push((performance.now() - started) / 1000);
  }
  return {
    days,
    store: 'local folder',
    'part files': report!.parts,
    traces: report!.traces.toLocaleString('en-US'),
    'segment rows': report!.segments.toLocaleString('en-US'),
    problems: report!.problems.length,
    seconds: `${seconds.map((s) => s.toFixed(2)).join(' ')} (3 runs)`,
    'traces / s (best)': Math.round(report!.traces / Math.min(...seconds)).toLocaleString('en-US'),
    'heap held a trace (bytes)': gc ? Math.round(held / report!.traces) : 'run with --expose-gc',
  };
}

/**
 * The same lake behind a store that answers each read after `latencyMs` (a model of S3's first-byte latency,
 * not a measurement of S3), read one pair at a time and with the default read-ahead.
 */
export async function runVerifyLatencyBenchmark(latencyMs = 30, days = 7) {
  const inner = new FsStore(`/tmp/xray-lake-bench-verify-${days}d`);
  const sleep = () => new Promise((resolve) => setTimeout(resolve, latencyMs));
  const slow: ObjectStore = {
    location: `${inner.location} (+${latencyMs} ms a read)`,
    get: async (key) => (await sleep(), inner.get(key)),
    getRange: async (key, range) => (await sleep(), inner.getRange(key, range)),
    put: (key, body, options) => inner.put(key, body, options),
    list: (prefix) => inner.list(prefix),
    delete: (key) => inner.delete(key),
  };
  const rows = [];
  for (const readAheadPairs of [1, READ_AHEAD_PAIRS]) {
    const started = performance.now();
    const report = await verifyLake(slow, { readAheadPairs });
    rows.push({
      days,
      store: `+${latencyMs} ms a read, ${readAheadPairs} pair(s) ahead`,
      'part files': report.parts,
      traces: report.traces.toLocaleString('en-US'),
      seconds: `${((performance.now() - started) / 1000).toFixed(2)} (1 run)`,
    });
  }
  return rows;
}

if (process.argv[1]?.endsWith('verify.ts'))
  console.table([
    await runVerifyBenchmark(
      Number(arg('days', '7')),
      Number(arg('rpm', '14')),
      arg('lake', '') || undefined,
    ),
    ...(await runVerifyLatencyBenchmark(30, Number(arg('days', '7')))),
  ]);
