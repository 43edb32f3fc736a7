/**
 * The detector on the simulator's labelled scenario: five weeks of the default scenario at the demo's
 * traffic (6 requests/min), each with its own seed and its incidents at other times of day, exported as a
 * lake (built once per week in /tmp and reused), replayed on DuckDB exactly as `npm start` does, and
 * scored against the labels by lib/insights/evaluate.ts. Prints figures; asserts nothing.
 *
 *   node bin/run-ts.mjs bench/detect-scenarios.ts [--weeks 5] [--dir /tmp/xray-lake-bench-scenarios]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from 'simple-statistics';
import type { DetectorOptions } from '../lib/insights/detectors.js';
import { evaluate } from '../lib/insights/evaluate.js';
import { detectOverLake } from '../lib/insights/lake.js';
import { DEFAULT_SCENARIO, resolveIncidents } from '../lib/local/simulator/scenario.js';
import { labelsFor, type LabelFile } from '../lib/local/simulator/simulate.js';
import { DuckDbEngine } from '../lib/query/duckdb-engine.js';
import { buildLake } from './lake-builder.js';

const arg = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
};
const REQUESTS_PER_MINUTE = 6;
const DAY = 86_400;
/** The first week ends here; each next one 5 hours earlier, so its incidents fall at other hours of the day. */
const END = Date.UTC(2026, 10, 22) / 1000;

export interface WeekResult {
  week: string;
  incidents: number;
  detected: number;
  insights: number;
  falseAlarms: number;
  decoysAlerted: number;
  delays: number[];
  missed: string[];
}

/** One labelled week's lake: where it is and its labels. */
export interface ScenarioWeek {
  seed: number;
  to: number;
  root: string;
  labels: LabelFile;
}

/** The `weeks` labelled weeks' lakes under `dir`, each built the first time it is asked for. */
export function scenarioWeeks(weeks: number, dir: string): ScenarioWeek[] {
  const scenario = {
    ...DEFAULT_SCENARIO,
    traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: REQUESTS_PER_MINUTE },
  };
  return Array.from({ length: weeks }, (_, w) => {
    const seed = w + 1;
    const to = END - w * 5 * 3600;
    const from = to - 7 * DAY;
    const root = join(dir, `seed-${seed}-to-${new Date(to * 1000).toISOString().slice(0, 13)}`);
    const labelsPath = join(root, 'labels.json');
    if (!existsSync(labelsPath)) {
      console.error(`building week ${w + 1} (seed ${seed}) in ${root}...`);
      buildLake(root, { scenario, incidents: resolveIncidents(scenario, from, to), seed, from, to });
      writeFileSync(labelsPath, JSON.stringify(labelsFor(scenario, seed, from, to), null, 2));
    }
    return { seed, to, root, labels: JSON.parse(readFileSync(labelsPath, 'utf8')) as LabelFile };
  });
}

/** Builds (or reuses) and scores `weeks` labelled weeks, with the detector's defaults or `detector`'s. */
export async function runScenarios(
  weeks: number,
  dir: string,
  detector: Partial<DetectorOptions> = {},
): Promise<WeekResult[]> {
  const results: WeekResult[] = [];
  for (const { seed, to, root, labels } of scenarioWeeks(weeks, dir)) {
    const engine = await DuckDbEngine.open(root);
    try {
      const detected = await detectOverLake(engine, { historyDays: 0, detector });
      const scored = evaluate(labels, detected?.entries ?? []);
      const real = scored.incidents.filter((i) => !i.decoy);
      results.push({
        week: `seed ${seed}, ends ${new Date(to * 1000).toISOString().slice(5, 13)}h`,
        incidents: real.length,
        detected: real.filter((i) => i.detected).length,
        insights: scored.insightsOpened,
        falseAlarms: scored.falseAlarms,
        decoysAlerted: scored.decoysAlerted,
        delays: real.flatMap((i) => (i.delayBuckets === undefined ? [] : [i.delayBuckets])),
        missed: real.filter((i) => !i.detected).map((i) => i.name),
      });
    } finally {
      await engine.close();
    }
  }
  return results;
}

const percent = (part: number, whole: number) => `${whole ? Math.round((100 * part) / whole) : 100}%`;

/** One row per week and a total, as console.table prints them. */
export function scenarioTable(results: WeekResult[]): Record<string, string | number>[] {
  const row = (name: string, r: Omit<WeekResult, 'week'>) => ({
    week: name,
    recall: `${r.detected}/${r.incidents} (${percent(r.detected, r.incidents)})`,
    precision: `${percent(r.insights - r.falseAlarms, r.insights)} (${r.insights} insights, ${r.falseAlarms} false)`,
    'median delay (buckets)': r.delays.length ? median(r.delays) : '-',
    'delays (buckets)': r.delays.join(' '),
    'decoys alerted': r.decoysAlerted,
    missed: r.missed.join(', ') || '-',
  });
  const total = results.reduce(
    (sum, r) => ({
      incidents: sum.incidents + r.incidents,
      detected: sum.detected + r.detected,
      insights: sum.insights + r.insights,
      falseAlarms: sum.falseAlarms + r.falseAlarms,
      decoysAlerted: sum.decoysAlerted + r.decoysAlerted,
      delays: [...sum.delays, ...r.delays],
      missed: [...sum.missed, ...r.missed],
    }),
    {
      incidents: 0,
      detected: 0,
      insights: 0,
      falseAlarms: 0,
      decoysAlerted: 0,
      delays: [] as number[],
      missed: [] as string[],
    },
  );
  return [...results.map((r) => row(r.week, r)), row('all', total)];
}

if (process.argv[1]?.endsWith('detect-scenarios.ts')) {
  const weeks = Number(arg('weeks', '5'));
  const dir = arg('dir', '/tmp/xray-lake-bench-scenarios');
  console.table(scenarioTable(await runScenarios(weeks, dir)));
  console.log('with the latency noise model on (latencyNoiseModel=1):');
  console.table(scenarioTable(await runScenarios(weeks, dir, { latencyNoiseModel: 1 })));
}
