import { describe, expect, it } from 'vitest';
import { mergeIntoHourFiles, ORPHAN_GRACE_MS, partKey } from '../../../lib/lake/hour-files.js';
import { encodeParquet } from '../../../lib/lake/parquet.js';
import { traceToRows } from '../../../lib/lake/schema.js';
import { verifyLake } from '../../../lib/lake/verify.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import type { ObjectStore, PutOptions } from '../../../lib/store/object-store.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { segment } from '../../helpers/segments.js';
import { tempDir } from '../../helpers/temp.js';

const START = Date.UTC(2026, 10, 20, 10, 15) / 1000;
const HOUR_10 = 'dt=2026-11-20/hour=10';
const HOUR_11 = 'dt=2026-11-20/hour=11';
const rowsOf = (documents: SegmentDocument[], revision = 1) => {
  const assembled = assembleTrace(documents[0]!.trace_id, documents);
  return traceToRows(assembled, summarizeTrace(assembled, revision), { exportedAt: 0 });
};
function trace(start: number, spans = 2): SegmentDocument[] {
  const root = segment({ start_time: start });
  return [
    root,
    ...Array.from({ length: spans - 1 }, (_, i) =>
      segment({
        trace_id: root.trace_id,
        name: `w-${i}`,
        parent_id: root.id,
        start_time: start + (i + 1) / 10,
      }),
    ),
  ];
}
/** An hour written as a run writes it: three traces. */
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
    const { lake, traces } = await lakeWithAnHour();
    // The traces file says 3 segments for the second trace; the segments file holds 2 of them.
    const rows = traces.map((t) => rowsOf(t));
    const short = rows.flatMap((r, i) => (i === 1 ? r.segments.slice(0, 2) : r.segments));
    await lake.put(partKey('segments', HOUR_10, 0), encodeParquet('segments', short));
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
    expect(duplicated.traceIds.sort()).toEqual(traces.map((t) => t[0]!.trace_id).sort());
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

  it("reports a stopped run's orphan rows until a merge dates them, then only past the grace", async () => {
    const { lake } = await lakeWithAnHour();
    const orphan = trace(START + 200);
    const dying: ObjectStore = {
      location: lake.location,
      get: (key) => lake.get(key),
      list: (prefix) => lake.list(prefix),
      delete: (key) => lake.delete(key),
      put: async (key: string, body: Uint8Array, options?: PutOptions) => {
        if (key.startsWith('traces/')) throw new Error('killed');
        return lake.put(key, body, options);
      },
    };
    await expect(mergeIntoHourFiles(dying, [rowsOf(orphan)])).rejects.toThrow('killed');
    const undated = await verifyLake(lake);
    expect(undated.problems).toEqual([
      expect.objectContaining({ kind: 'orphans', count: 1, traceIds: [orphan[0]!.trace_id] }),
    ]);
    // A merge into the hour dates them: pending while within the grace, a problem after.
    const at = Date.UTC(2026, 10, 20, 11);
    await mergeIntoHourFiles(lake, [rowsOf(trace(START + 300))], { now: () => at });
    expect(await verifyLake(lake, { now: () => at + ORPHAN_GRACE_MS - 1 })).toMatchObject({
      pendingOrphanTraces: 1,
      ok: true,
    });
    expect(kinds(await verifyLake(lake, { now: () => at + ORPHAN_GRACE_MS }))).toEqual(['orphans']);
  });
});
