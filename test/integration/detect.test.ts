import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InsightEntry } from '../../lib/insights/events.js';
import { readEdges } from '../../lib/insights/lake.js';
import { DuckDbEngine } from '../../lib/query/duckdb-engine.js';
import type { QueryEngine } from '../../lib/query/engine.js';
import { DEFAULT_SCENARIO, type Scenario } from '../../lib/local/simulator/scenario.js';
import { readJsonl, runCli, scheduledAndReplayed } from '../helpers/cli.js';
import { insightSchemaValidator } from '../helpers/insight-schema.js';
import { simulatedLake } from '../helpers/local-xray.js';

const FROM = Date.UTC(2026, 10, 18, 4) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const TO = FROM + 8 * 3600;
const scenario: Scenario = {
  ...DEFAULT_SCENARIO,
  traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: 20 },
  incidents: [
    {
      name: 'checkout fault burst',
      service: 'checkout',
      category: 'fault',
      start: '+5h',
      duration: '40m',
      magnitude: 0.25,
    },
    {
      name: 'deploy blip',
      service: 'checkout',
      category: 'latency',
      start: '+6h30m',
      duration: '4m',
      magnitude: 3,
      decoy: true,
    },
  ],
};

describe('xray-lake detect over an exported lake with labelled incidents', () => {
  let dir: string;
  let insights: InsightEntry[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'detect-'));
    await simulatedLake(join(dir, 'lake'), { scenario, from: FROM, to: TO, seed: 12 });
    const run = await runCli([
      'detect',
      '--lake',
      join(dir, 'lake'),
      '--from',
      iso(FROM + 3600),
      '--to',
      iso(TO),
      '--sink',
      `jsonl:${join(dir, 'insights.jsonl')}`,
    ]);
    expect(run.code).toBe(0);
    insights = await readJsonl(join(dir, 'insights.jsonl'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens a fault insight on checkout within two buckets of the incident, with sample traces, and closes it', () => {
    const incident = FROM + 5 * 3600;
    const opened = insights.find(
      (e) =>
        e.Detail.State === 'ACTIVE' &&
        e.Detail.Categories[0] === 'FAULT' &&
        e.Detail.RootCauseServiceId.Name === 'checkout',
    );
    expect(opened).toBeDefined();
    const delay = Date.parse(opened!.Time) / 1000 - incident;
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(2 * 300 + 300);
    expect(opened!.Detail.SampleTraceIds.length).toBeGreaterThan(0);
    const closed = insights.find(
      (e) => e.Detail.State === 'CLOSED' && e.Detail.InsightId === opened!.Detail.InsightId,
    );
    expect(Date.parse(closed!.Detail.EndTime!) / 1000).toBeGreaterThan(incident + 30 * 60);
  });

  it('raises nothing for the one-bucket deploy blip', () => {
    const blip = FROM + 6.5 * 3600;
    const during = insights.filter(
      (e) =>
        e.Detail.Categories[0] === 'LATENCY' && Math.abs(Date.parse(e.Detail.StartTime) / 1000 - blip) < 1800,
    );
    expect(during).toEqual([]);
  });

  it('emits in scheduled runs, continued from _state/, exactly what the replay of the same range emits', async () => {
    const runs = [FROM + 4 * 3600, FROM + 4 * 3600, FROM + 5.5 * 3600, TO];
    // The first run judges the hour before its "now", warming up on everything before.
    const { scheduled, replayed, messages } = await scheduledAndReplayed(join(dir, 'lake'), dir, runs, {
      from: FROM + 3 * 3600,
      to: TO,
    });
    expect(messages[1]).toMatch(/nothing new to judge/);
    expect(scheduled.length).toBeGreaterThan(0);
    expect(scheduled).toEqual(replayed);
  });

  it('waits for the export checkpoint in a scheduled run, and names a checkpoint it cannot read', async () => {
    // After the test above, the scheduled state has judged up to TO; an exporter behind it holds the next run.
    const lake = join(dir, 'lake');
    const checkpoint = join(lake, '_state', 'export', 'checkpoint.json');
    await mkdir(dirname(checkpoint), { recursive: true });
    const detect = () =>
      runCli(['detect', '--lake', lake, '--now', iso(TO + 3600), '--lag-minutes', '0', '--sink', 'stdout']);
    try {
      await writeFile(checkpoint, JSON.stringify({ position: TO - 600 }));
      const waiting = await detect();
      expect(waiting.code).toBe(0);
      expect(waiting.err).toContain(
        `nothing new to judge before ${iso(TO)} (later buckets wait for the export, whose checkpoint is at ${iso(TO - 600)})`,
      );
      await writeFile(checkpoint, '{"position": "soon"}');
      const broken = await detect();
      expect(broken.code).toBe(1);
      expect(broken.err).toContain(`xray-lake detect: ${lake}/_state/export/checkpoint.json has no position`);
    } finally {
      await rm(checkpoint, { force: true });
    }
  });

  it("reads the service graph by service_edges' rule, pruned to the hours a scheduled run reads", async () => {
    const duckdb = await DuckDbEngine.open(join(dir, 'lake'));
    const queries: string[] = [];
    const engine: QueryEngine = {
      name: 'recorded',
      query: (sql) => {
        queries.push(sql);
        return duckdb.query(sql);
      },
      close: () => duckdb.close(),
    };
    try {
      const pairs = (edges: { caller: unknown; callee: unknown }[]) =>
        edges.map((e) => `${String(e.caller)} -> ${String(e.callee)}`).sort();
      const { rows } = await engine.query(
        `SELECT DISTINCT caller, callee FROM service_edges WHERE hour >= from_unixtime(${FROM}) AND hour < from_unixtime(${TO})`,
      );
      expect(rows.length).toBeGreaterThan(3);
      expect(pairs(await readEdges(engine, FROM, TO))).toEqual(pairs(rows as never));

      // Five minutes of a scheduled run: its own hour and the one before, not the whole day.
      const edges = await readEdges(engine, FROM + 5 * 3600 + 600, FROM + 5 * 3600 + 900);
      expect(pairs(edges)).toEqual(pairs(rows as never));
      expect(queries.at(-1)).toContain("dt = '2026-11-18' AND hour >= '08' AND hour <= '09'");
    } finally {
      await engine.close();
    }
  });

  it('emits only events that validate against the published JSON Schema', async () => {
    const validate = await insightSchemaValidator();
    expect(insights.length).toBeGreaterThan(0);
    for (const entry of insights) expect(validate(entry), JSON.stringify(validate.errors)).toBe(true);
  });

  it('takes the events’ Source from --source, and refuses one EventBridge would not', async () => {
    const out = join(dir, 'sourced.jsonl');
    const args = ['detect', '--lake', join(dir, 'lake'), '--from', iso(FROM + 3600), '--to', iso(TO)];
    expect((await runCli([...args, '--source', 'com.example.traces', '--sink', `jsonl:${out}`])).code).toBe(
      0,
    );
    const sourced = await readJsonl(out);
    expect(sourced.map((e) => e.Detail.InsightId)).toEqual(insights.map((e) => e.Detail.InsightId));
    expect(new Set(sourced.map((e) => e.Source))).toEqual(new Set(['com.example.traces']));
    const bad = await runCli([...args, '--source', 'has spaces']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--source: "has spaces" is not a valid event source/);
  });

  it('takes threshold overrides from --thresholds, and names a bad one', async () => {
    const args = ['detect', '--lake', join(dir, 'lake'), '--from', iso(FROM + 3600), '--to', iso(TO)];
    // Twelve anomalous buckets in a row before anything opens: fewer incidents last that long.
    const run = await runCli([...args, '--thresholds', 'openAfter=12', '--sink', 'stdout']);
    expect(run.code).toBe(0);
    const strict = Number(/^(\d+) insights/.exec(run.err)?.[1]);
    expect(strict).toBeLessThan(new Set(insights.map((e) => e.Detail.InsightId)).size);
    const bad = await runCli([...args, '--thresholds', 'openAfter=0']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--thresholds: openAfter: expected a whole number from 1 to 288, got "0"/);
  });
});
