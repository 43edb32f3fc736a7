import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionFilter } from '../../lib/insights/lake.js';
import { mergeIntoHourFiles } from '../../lib/lake/hour-files.js';
import { partitionOf, type TraceRows, traceToRows } from '../../lib/lake/schema.js';
import { TrafficGenerator } from '../../lib/local/simulator/generate.js';
import { DEFAULT_SCENARIO } from '../../lib/local/simulator/scenario.js';
import { DuckDbEngine } from '../../lib/query/duckdb-engine.js';
import { FsStore } from '../../lib/store/fs-store.js';
import { assembleTrace } from '../../lib/xray/assemble.js';
import { summarizeTrace } from '../../lib/xray/summary.js';

// Four hours across midnight: 22:00 to 02:00 UTC.
const FROM = Date.UTC(2026, 10, 21, 22) / 1000;
const TO = FROM + 4 * 3600;

describe('partitionFilter over a lake that crosses midnight', () => {
  let dir: string;
  let engine: DuckDbEngine;
  const segmentsByHour = new Map<string, number>();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'partition-filter-'));
    const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], 3);
    const rows: TraceRows[] = [];
    for (let minute = FROM / 60; minute < TO / 60; minute += 5)
      for (const trace of generator.minute(minute)) {
        const assembled = assembleTrace(trace.id, trace.documents);
        const converted = traceToRows(assembled, summarizeTrace(assembled), { exportedAt: 0 });
        rows.push(converted);
        const { path } = partitionOf(converted.trace.start_time);
        segmentsByHour.set(path, (segmentsByHour.get(path) ?? 0) + converted.segments.length);
      }
    await mergeIntoHourFiles(new FsStore(dir), rows);
    engine = await DuckDbEngine.open(dir);
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const expected = (from: number, to: number) => {
    let n = 0;
    for (let hour = Math.floor(from / 3600) * 3600; hour < to; hour += 3600)
      n += segmentsByHour.get(partitionOf(hour * 1000).path) ?? 0;
    return n;
  };

  it('selects exactly the hour partitions a range touches, on one day or across midnight', async () => {
    expect(segmentsByHour.size).toBe(4);
    for (const [from, to] of [
      [FROM, FROM + 3600], // 22:00–23:00, one day
      [FROM + 1800, FROM + 3 * 3600], // 22:30–01:00, two days
      [FROM + 2 * 3600 - 300, FROM + 2 * 3600 + 300], // five minutes either side of midnight
      [FROM, TO], // all four hours
    ] as const) {
      const { rows } = await engine.query(
        `SELECT count(*) AS n FROM segments WHERE ${partitionFilter(from, to)}`,
      );
      expect(
        Number(rows[0]!.n),
        `${new Date(from * 1000).toISOString()} – ${new Date(to * 1000).toISOString()}`,
      ).toBe(expected(from, to));
    }
  });

  it('reads only the files of those hours across midnight', async () => {
    const filter = partitionFilter(FROM + 2 * 3600 - 300, FROM + 2 * 3600 + 300);
    expect(filter).toContain("(dt = '2026-11-21' AND hour >= '23')");
    const plan = await engine.query(`EXPLAIN ANALYZE SELECT count(*) FROM segments WHERE ${filter}`);
    expect(JSON.stringify(plan.rows)).toMatch(/Total Files Read: 2\b/);
  });
});
