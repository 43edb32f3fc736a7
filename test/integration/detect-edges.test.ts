import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCENARIO, type Scenario } from '../../lib/local/simulator/scenario.js';
import { DuckDbEngine } from '../../lib/query/duckdb-engine.js';
import { readJsonl, runCli, scheduledAndReplayed } from '../helpers/cli.js';
import { simulatedLake } from '../helpers/local-xray.js';

const FROM = Date.UTC(2026, 10, 18, 4) / 1000;
const TO = FROM + 5 * 3600;
const INCIDENT = FROM + 3 * 3600;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/**
 * The default shop with the admin API (4% of requests) reading the orders table too, which answers 2% of all
 * calls with a fault. From +3h for 45 minutes half of the admin API's calls to it fault: a few more faults a
 * bucket among the table's 160–410 calls (the simulator's traffic over those hours), within its usual noise, while the admin API fails half its requests.
 */
const scenario: Scenario = {
  ...DEFAULT_SCENARIO,
  traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: 40 },
  nodes: DEFAULT_SCENARIO.nodes.map((node) =>
    node.name === 'admin-api'
      ? { ...node, calls: ['reports', 'orders-table'] }
      : node.name === 'orders-table'
        ? { ...node, rates: { fault: 0.02 } }
        : node,
  ),
  incidents: [
    {
      name: "the admin API's calls to the orders table fail",
      service: 'orders-table',
      caller: 'admin-api',
      category: 'fault',
      start: '+3h',
      duration: '45m',
      magnitude: 0.5,
    },
  ],
};

describe('detect with edge series over an exported lake', () => {
  let dir: string;
  const detect = async (...extra: string[]) => {
    const out = join(dir, `insights-${extra.length}.jsonl`);
    const args = ['detect', '--lake', join(dir, 'lake'), '--from', iso(FROM + 3600), '--to', iso(TO)];
    const run = await runCli([...args, ...extra, '--sink', `jsonl:${out}`]);
    expect(run.code).toBe(0);
    // The insight of the incident: the one open while it ran.
    return (await readJsonl(out)).filter(
      (e) => Math.abs(Date.parse(e.Detail.StartTime) / 1000 - INCIDENT) < 900,
    );
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'detect-edges-'));
    await simulatedLake(join(dir, 'lake'), { scenario, from: FROM, to: TO, seed: 3 });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('emits in scheduled runs with edges exactly what the replay with edges emits', async () => {
    const runs = [FROM + 2 * 3600, FROM + 3.25 * 3600, FROM + 4 * 3600, TO];
    // The first scheduled run judges the hour before its "now", warming up on everything before.
    const { scheduled, replayed } = await scheduledAndReplayed(
      join(dir, 'lake'),
      dir,
      runs,
      { from: FROM + 3600, to: TO },
      ['--thresholds', 'edgeSeries=1'],
    );
    expect(scheduled.some((e) => e.Detail.Summary.startsWith('calls from admin-api to DynamoDB'))).toBe(true);
    expect(scheduled).toEqual(replayed);
  });

  it('blames the caller by services alone, and the calls to the orders table with edgeSeries=1', async () => {
    const bare = await detect();
    expect(new Set(bare.map((e) => e.Detail.RootCauseServiceId.Name))).toEqual(new Set(['admin-api']));

    const withEdges = await detect('--thresholds', 'edgeSeries=1');
    expect(new Set(withEdges.map((e) => e.Detail.InsightId)).size).toBe(1);
    const opened = withEdges[0]!;
    // X-Ray names a DynamoDB table's node DynamoDB.
    expect(opened.Detail.RootCauseServiceId.Name).toBe('DynamoDB');
    expect(opened.Detail.Summary).toMatch(/^calls from admin-api to DynamoDB: fault rate/);
    expect(opened.Detail.TopAnomalousServices.map((s) => s.ServiceId.Name)).toEqual([
      'DynamoDB',
      'admin-api',
    ]);
    expect(Date.parse(opened.Time) / 1000 - INCIDENT).toBeLessThanOrEqual(3 * 300);
    expect(withEdges.at(-1)!.Detail.State).toBe('CLOSED');

    // Its sample traces are the admin API's faulted calls to the table, not the table's other faults.
    expect(opened.Detail.SampleTraceIds.length).toBeGreaterThan(0);
    const engine = await DuckDbEngine.open(join(dir, 'lake'));
    try {
      const ids = opened.Detail.SampleTraceIds.map((id) => `'${id}'`).join(', ');
      const { rows } = await engine.query(
        `SELECT count(DISTINCT trace_id) AS n FROM segments WHERE trace_id IN (${ids})
         AND service = 'DynamoDB' AND caller_service = 'admin-api' AND fault`,
      );
      expect(Number(rows[0]!.n)).toBe(opened.Detail.SampleTraceIds.length);
    } finally {
      await engine.close();
    }
  });
});
