import { describe, expect, it } from 'vitest';
import { mergeIntoHourFiles, ORPHAN_GRACE_MS, partKey } from '../../../lib/lake/hour-files.js';
import { encodeParquet } from '../../../lib/lake/parquet.js';
import { repairLake, verifyLake } from '../../../lib/lake/verify.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import { StoreError } from '../../../lib/store/errors.js';
import type { ObjectStore, PutOptions } from '../../../lib/store/object-store.js';
import { rowsOf, traceAt as trace } from '../../helpers/lake-rows.js';
import { tempDir } from '../../helpers/temp.js';

const START = Date.UTC(2026, 10, 20, 10, 15) / 1000;
const HOUR_10 = 'dt=2026-11-20/hour=10';
const HOUR_11 = 'dt=2026-11-20/hour=11';
/** An hour written as a run writes it: three traces. */
/** A run that dies between its segments put and its traces put. */
const dyingOver = (lake: ObjectStore): ObjectStore => ({
  location: lake.location,
  get: (key) => lake.get(key),
  list: (prefix) => lake.list(prefix),
  delete: (key) => lake.delete(key),
  put: async (key: string, body: Uint8Array, options?: PutOptions) => {
    if (key.startsWith('traces/')) throw new Error('killed');
    return lake.put(key, body, options);
  },
});
/** The hour's traces file says 3 segments for its second trace; the segments file holds 2 of them. */
async function withIncompleteTrace() {
  const { lake, traces } = await lakeWithAnHour();
  const rows = traces.map((t) => rowsOf(t));
  const short = rows.flatMap((r, i) => (i === 1 ? r.segments.slice(0, 2) : r.segments));
  await lake.put(partKey('segments', HOUR_10, 0), encodeParquet('segments', short));
  return { lake, traces };
}
async function lakeWithAnHour() {
  const lake = new FsStore(await tempDir('verify-'));
  const traces = [trace(START), trace(START + 60, 3), trace(START + 120)];
  await mergeIntoHourFiles(
    lake,
    traces.map((t) => rowsOf(t)),
  );
  return { lake, traces };
}
const kinds = (report: Awaited<ReturnType<typeof verifyLake>>) => report.problems.map((p) => p.kind).sort();

describe('verifyLake', () => {
  it('finds nothing wrong in a lake its merges wrote, counting its traces and segment rows', async () => {
    const { lake } = await lakeWithAnHour();
    await mergeIntoHourFiles(lake, [rowsOf(trace(START + 3600))]);
    expect(await verifyLake(lake)).toMatchObject({
      hours: 2,
      parts: 2,
      traces: 4,
      segments: 9,
      problems: [],
      ok: true,
    });
  });

  it('finds nothing in an empty lake', async () => {
    expect(await verifyLake(new FsStore(await tempDir('verify-empty-')))).toMatchObject({
      hours: 0,
      traces: 0,
      ok: true,
    });
  });

  it('reports a trace whose segment rows do not add up to its count, naming it', async () => {
    const { lake, traces } = await withIncompleteTrace();
    const report = await verifyLake(lake);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({
        kind: 'incomplete',
        partition: HOUR_10,
        shard: 0,
        count: 1,
        traceIds: [traces[1]![0]!.trace_id],
      }),
    ]);
  });

  it('reports a trace in two hours as duplicated, and misplaced where its start is not', async () => {
    const { lake, traces } = await lakeWithAnHour();
    for (const table of ['traces', 'segments'] as const)
      await lake.put(partKey(table, HOUR_11, 0), (await lake.get(partKey(table, HOUR_10, 0)))!.body);
    const report = await verifyLake(lake);
    expect(kinds(report)).toEqual(['duplicated', 'misplaced']);
    const duplicated = report.problems.find((p) => p.kind === 'duplicated')!;
    expect(duplicated).toMatchObject({ partition: HOUR_11, count: 3, detail: `also in ${HOUR_10}#0` });
    expect([...duplicated.traceIds].sort()).toEqual(traces.map((t) => t[0]!.trace_id).sort());
    // Read ahead or one pair at a time, the same report: the checks go in listing order.
    const { seconds: _a, ...ahead } = report;
    const { seconds: _b, ...one } = await verifyLake(lake, { readAheadPairs: 1 });
    expect(one).toEqual(ahead);
    // Only the hours asked for are read: hour 10 alone is whole.
    expect(await verifyLake(lake, { from: START, to: START + 600 })).toMatchObject({ hours: 1, ok: true });
  });

  it('reports unreadable and unpaired part files, and goes on with the rest', async () => {
    const { lake } = await lakeWithAnHour();
    await mergeIntoHourFiles(lake, [rowsOf(trace(START + 3600))]);
    await lake.put(partKey('traces', HOUR_11, 0), new Uint8Array(64));
    await lake.put(partKey('traces', 'dt=2026-11-20/hour=12', 0), new Uint8Array(8));
    const report = await verifyLake(lake);
    expect(kinds(report)).toEqual(['unpaired', 'unreadable']);
    expect(report.problems.find((p) => p.kind === 'unreadable')!.detail).toMatch(
      /^traces\/dt=2026-11-20\/hour=11\/part-00000\.parquet: /,
    );
    expect(report.traces).toBe(3);
  });

  it("fails with the store's error when the store cannot return a file, instead of calling the file unreadable", async () => {
    const { lake } = await lakeWithAnHour();
    await mergeIntoHourFiles(lake, [rowsOf(trace(START + 3600))]);
    const failing = new StoreError('cannot read it: SlowDown');
    const throttled: ObjectStore = {
      location: lake.location,
      list: (prefix) => lake.list(prefix),
      put: (key, body, options) => lake.put(key, body, options),
      delete: (key) => lake.delete(key),
      get: async (key) => {
        if (key.includes('hour=11/')) throw failing;
        return lake.get(key);
      },
    };
    // Read ahead of its turn, the failed read is held until then: no unhandled rejection, the error itself.
    await expect(verifyLake(throttled, { readAheadPairs: 4 })).rejects.toBe(failing);
    await expect(repairLake(throttled)).rejects.toBe(failing);
  });

  it('lists only the days of a bounded range, the whole table otherwise', async () => {
    const { lake } = await lakeWithAnHour();
    const listed: string[] = [];
    const watched: ObjectStore = Object.assign(Object.create(lake) as FsStore, {
      list: (prefix: string) => {
        listed.push(prefix);
        return lake.list(prefix);
      },
    });
    // 23:00 on the 19th to 01:00 on the 21st: three days' prefixes a table.
    const from = Date.UTC(2026, 10, 19, 23) / 1000;
    expect(await verifyLake(watched, { from, to: from + 26 * 3600 })).toMatchObject({ traces: 3, ok: true });
    expect(listed).toEqual(
      ['traces', 'segments'].flatMap((table) =>
        ['19', '20', '21'].map((day) => `${table}/dt=2026-11-${day}/`),
      ),
    );
    listed.length = 0;
    expect(await verifyLake(watched)).toMatchObject({ traces: 3, ok: true });
    expect(listed).toEqual(['traces/', 'segments/']);
  });

  it("reports a stopped run's orphan rows until a merge dates them, then only past the grace", async () => {
    const { lake } = await lakeWithAnHour();
    const orphan = trace(START + 200);
    await expect(mergeIntoHourFiles(dyingOver(lake), [rowsOf(orphan)])).rejects.toThrow('killed');
    const undated = await verifyLake(lake);
    expect(undated.problems).toEqual([
      expect.objectContaining({ kind: 'orphans', count: 1, traceIds: [orphan[0]!.trace_id] }),
    ]);
    // A merge into the hour dates them: pending while within the grace, a problem after.
    const at = Date.UTC(2026, 10, 20, 11);
    await mergeIntoHourFiles(lake, [rowsOf(trace(START + 300))], { now: () => at });
    expect(await verifyLake(lake, { now: () => at + ORPHAN_GRACE_MS - 1 })).toMatchObject({
      pendingOrphanTraces: 1,
      pendingOrphanHours: [HOUR_10],
      ok: true,
    });
    expect(kinds(await verifyLake(lake, { now: () => at + ORPHAN_GRACE_MS }))).toEqual(['orphans']);
  });
});

describe('repairLake', () => {
  it('keeps the copy of a duplicated trace in the earliest hour at a tie of revisions, and removes the rest', async () => {
    const { lake, traces } = await lakeWithAnHour();
    for (const table of ['traces', 'segments'] as const)
      await lake.put(partKey(table, HOUR_11, 0), (await lake.get(partKey(table, HOUR_10, 0)))!.body);
    const repaired = await repairLake(lake);
    expect(repaired).toMatchObject({ partsRewritten: 1, duplicatesRemoved: 3, tracesWithdrawn: 0 });
    expect(repaired.before.ok).toBe(false);
    expect(repaired.after).toMatchObject({ traces: 3, segments: 7, ok: true });
    expect((await verifyLake(lake, { from: START, to: START + 60 })).traces).toBe(traces.length);
  });

  it('keeps, at a tie of revisions, the copy in the hour of its start over one in an earlier hour', async () => {
    const { lake } = await lakeWithAnHour();
    const HOUR_9 = 'dt=2026-11-20/hour=09';
    for (const table of ['traces', 'segments'] as const)
      await lake.put(partKey(table, HOUR_9, 0), (await lake.get(partKey(table, HOUR_10, 0)))!.body);
    const repaired = await repairLake(lake);
    expect(repaired.before.problems.map((p) => `${p.kind} ${p.partition}`).sort()).toEqual([
      `duplicated ${HOUR_10}`,
      `misplaced ${HOUR_9}`,
    ]);
    expect(repaired).toMatchObject({ duplicatesRemoved: 3 });
    expect(repaired.after).toMatchObject({ traces: 3, ok: true });
    expect(await verifyLake(lake, { from: START, to: START + 60 })).toMatchObject({ traces: 3, ok: true });
  });

  it("dates a stopped run's orphan rows, then drops them in a repair past the grace", async () => {
    const { lake } = await lakeWithAnHour();
    await expect(mergeIntoHourFiles(dyingOver(lake), [rowsOf(trace(START + 200))])).rejects.toThrow('killed');
    const at = Date.UTC(2026, 10, 20, 11);
    // Undated, they may be a writer's between its two puts this very moment: dated, not dropped.
    const first = await repairLake(lake, { now: () => at });
    expect(first).toMatchObject({ partsRewritten: 1, orphansDropped: 0 });
    expect(first.after).toMatchObject({ pendingOrphanTraces: 1, ok: true });
    const second = await repairLake(lake, { now: () => at + ORPHAN_GRACE_MS });
    expect(second).toMatchObject({ partsRewritten: 1, orphansDropped: 1 });
    expect(second.after).toMatchObject({ traces: 3, segments: 7, pendingOrphanTraces: 0, ok: true });
  });

  it("withdraws an incomplete trace and names its hour to export again; past X-Ray's 30 days it leaves it", async () => {
    const old = await withIncompleteTrace();
    const late = await repairLake(old.lake, { now: () => START * 1000 + 31 * 86_400_000 });
    expect(late).toMatchObject({ tracesWithdrawn: 0, reexport: [] });
    expect(late.after.problems.map((p) => p.kind)).toEqual(['incomplete']);

    const { lake, traces } = await withIncompleteTrace();
    const repaired = await repairLake(lake, { now: () => START * 1000 + 3_600_000 });
    expect(repaired).toMatchObject({
      tracesWithdrawn: 1,
      reexport: [{ from: '2026-11-20T10:00:00.000Z', to: '2026-11-20T11:00:00.000Z' }],
    });
    // Its rows stay as orphans, dated, until the hour is exported again or the grace runs out.
    expect(repaired.after).toMatchObject({ traces: 2, pendingOrphanTraces: 1, ok: true });
    await mergeIntoHourFiles(lake, [rowsOf(traces[1]!)], { now: () => START * 1000 + 3_600_000 });
    expect(await verifyLake(lake)).toMatchObject({
      traces: 3,
      segments: 7,
      pendingOrphanTraces: 0,
      ok: true,
    });
  });

  it('leaves an unreadable file to a person, and says so after', async () => {
    const { lake } = await lakeWithAnHour();
    await lake.put(partKey('traces', HOUR_11, 0), new Uint8Array(64));
    await lake.put(partKey('segments', HOUR_11, 0), new Uint8Array(64));
    const repaired = await repairLake(lake);
    expect(repaired.partsRewritten).toBe(0);
    expect(repaired.after.problems.map((p) => p.kind)).toEqual(['unreadable', 'unreadable']);
  });
});
