import { describe, expect, it } from 'vitest';
import {
  mergeIntoHourFiles,
  ORPHAN_GRACE_MS,
  ORPHANS_KEY,
  partKey,
  readRevisions,
  shardOf,
} from '../../../lib/lake/hour-files.js';
import { UnreadableLakeFileError } from '../../../lib/lake/errors.js';
import { decodeParquet, openParquet } from '../../../lib/lake/parquet.js';
import { traceToRows } from '../../../lib/lake/schema.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import type { ObjectStore, PutOptions } from '../../../lib/store/object-store.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { groupBytes } from '../../helpers/parquet.js';
import { acrossTheHour, segment } from '../../helpers/segments.js';
import { tempDir } from '../../helpers/temp.js';

const START = Date.UTC(2026, 10, 20, 10, 15) / 1000;
const PARTITION = 'dt=2026-11-20/hour=10';
const rowsOf = (documents: SegmentDocument[], revision: number) => {
  const assembled = assembleTrace(documents[0]!.trace_id, documents);
  return traceToRows(assembled, summarizeTrace(assembled, revision), { exportedAt: 0 });
};
const store = async () => new FsStore(await tempDir('hour-files-'));
/** Every group is big enough to keep: small fixtures exercise what busy hours do. */
const KEEP_ALL = { keepRowGroupRows: { traces: 1, segments: 1 } };
const read = async (lake: ObjectStore, table: 'traces' | 'segments') =>
  (await lake.get(partKey(table, PARTITION, 0)))!.body;
/** The hour's traces and segments files, in that order. */
const files = async (lake: ObjectStore) =>
  [await read(lake, 'traces'), await read(lake, 'segments')] as const;
/** Merges one unit of traces, each at revision 1, keeping every row group it can. */
const mergeUnit = (lake: ObjectStore, traces: SegmentDocument[][]) =>
  mergeIntoHourFiles(
    lake,
    traces.map((d) => rowsOf(d, 1)),
    KEEP_ALL,
  );
/** `inner` with `put` replaced: to make another run race us, or the process die, at a write. */
const withPut = (inner: ObjectStore, put: ObjectStore['put']): ObjectStore => ({
  location: inner.location,
  get: (key) => inner.get(key),
  list: (prefix) => inner.list(prefix),
  delete: (key) => inner.delete(key),
  put,
});
/** A trace of `spans` documents: a root segment and a worker segment per further span. */
function trace(start: number, spans = 2): SegmentDocument[] {
  const root = segment({ start_time: start });
  const children = Array.from({ length: spans - 1 }, (_, i) =>
    segment({
      trace_id: root.trace_id,
      name: `worker-${i}`,
      parent_id: root.id,
      start_time: start + (i + 1) / 10,
    }),
  );
  return [root, ...children];
}

/**
 * Another writer merging `theirs`, stalled after its segments put until `release` is called; resolves once
 * it stalls. `theirRun` is its merge.
 */
async function stalledBeforeTraces(inner: ObjectStore, theirs: SegmentDocument[], revision = 1) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let stalled!: () => void;
  const atTraces = new Promise<void>((resolve) => (stalled = resolve));
  const stalling = withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
    if (key.startsWith('traces/')) {
      stalled();
      await released;
    }
    return inner.put(key, body, options);
  });
  const theirRun = mergeIntoHourFiles(stalling, [rowsOf(theirs, revision)], KEEP_ALL);
  await atTraces;
  return { theirRun, release };
}

/** `inner` as our writer: our segments put lets theirs go on, and our traces put waits until their run ends. */
const landingAfter = (inner: ObjectStore, theirRun: Promise<unknown>, release: () => void) =>
  withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
    if (key.startsWith('traces/')) await theirRun;
    const put = await inner.put(key, body, options);
    if (key.startsWith('segments/')) release();
    return put;
  });

/**
 * A trace at revision 1 (2 segments); theirs writes revision 3 (4 segments) and stalls before its traces
 * file; ours, revision 2 (3 segments), replaces its rows in the segments file, then loses the traces file
 * to theirs. `result` is our merge's.
 */
async function olderRevisionRace(now: () => number) {
  const inner = await store();
  const full = trace(START, 4);
  await mergeIntoHourFiles(inner, [rowsOf(full.slice(0, 2), 1)], KEEP_ALL);
  const { theirRun, release } = await stalledBeforeTraces(inner, full, 3);
  const ours = landingAfter(inner, theirRun, release);
  const result = await mergeIntoHourFiles(ours, [rowsOf(full.slice(0, 3), 2)], { ...KEEP_ALL, now });
  await theirRun;
  return { inner, full, result };
}

/** The hour holds exactly these traces, each with as many segment rows as its count says. */
async function expectWhole(lake: ObjectStore, expected: SegmentDocument[][]) {
  const traces = await decodeParquet('traces', await read(lake, 'traces'));
  const rowsPerTrace = new Map<string, number>();
  for (const row of await decodeParquet('segments', await read(lake, 'segments')))
    rowsPerTrace.set(row.trace_id, (rowsPerTrace.get(row.trace_id) ?? 0) + 1);
  expect(new Map(traces.map((t) => [t.trace_id, t.segment_count]))).toEqual(
    new Map(expected.map((d) => [d[0]!.trace_id, d.length])),
  );
  expect(rowsPerTrace).toEqual(new Map(traces.map((t) => [t.trace_id, t.segment_count])));
}

describe('mergeIntoHourFiles', () => {
  it('keeps the newest revision when a trace is exported twice', async () => {
    const lake = await store();
    const root = segment({ start_time: START });
    const late = segment({
      trace_id: root.trace_id,
      name: 'worker',
      parent_id: root.id,
      start_time: START + 1,
    });
    await mergeIntoHourFiles(lake, [rowsOf([root], 1)]);
    const result = await mergeIntoHourFiles(lake, [rowsOf([root, late], 2)]);
    expect(result).toMatchObject({ written: 1, segments: 2, unchanged: 0 });
    expect(await readRevisions(lake, PARTITION, 0)).toEqual(new Map([[root.trace_id, 2]]));
    const segments = await decodeParquet(
      'segments',
      (await lake.get(partKey('segments', PARTITION, 0)))!.body,
    );
    expect(segments.map((s) => s.service)).toEqual(['api', 'worker']);
  });

  it('ignores an older or equal revision and writes nothing', async () => {
    const lake = await store();
    const root = segment({ start_time: START });
    await mergeIntoHourFiles(lake, [rowsOf([root], 3)]);
    const before = (await lake.get(partKey('traces', PARTITION, 0)))!.etag;
    expect(await mergeIntoHourFiles(lake, [rowsOf([root], 3), rowsOf([root], 2)])).toMatchObject({
      written: 0,
      unchanged: 1,
      filesWritten: 0,
    });
    expect((await lake.get(partKey('traces', PARTITION, 0)))!.etag).toBe(before);
  });

  it('places each trace in the hour of its start time, sorted by start', async () => {
    const lake = await store();
    const a = segment({ start_time: START + 60 });
    const b = segment({ start_time: START });
    const c = segment({ start_time: START + 3600 });
    await mergeIntoHourFiles(lake, [rowsOf([a], 1), rowsOf([b], 1), rowsOf([c], 1)]);
    const hour10 = await decodeParquet('traces', (await lake.get(partKey('traces', PARTITION, 0)))!.body);
    expect(hour10.map((t) => t.trace_id)).toEqual([b.trace_id, a.trace_id]);
    expect(await readRevisions(lake, 'dt=2026-11-20/hour=11', 0)).toEqual(new Map([[c.trace_id, 1]]));
  });

  it('redoes the merge when another writer wins the race, losing neither write', async () => {
    const inner = await store();
    const mine = segment({ start_time: START });
    const theirs = segment({ start_time: START + 5 });
    let raced = false;
    // Another run writes the same hour file between our read and our conditional write.
    const racing = withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
      if (!raced) {
        raced = true;
        await mergeIntoHourFiles(inner, [rowsOf([theirs], 1)]);
      }
      return inner.put(key, body, options);
    });
    const result = await mergeIntoHourFiles(racing, [rowsOf([mine], 1)]);
    expect(result.conflicts).toBe(1);
    expect([...(await readRevisions(inner, PARTITION, 0)).keys()].sort()).toEqual(
      [mine.trace_id, theirs.trace_id].sort(),
    );
  });

  it('keeps the rows of a writer stalled between its two writes when its traces write lands before ours', async () => {
    const inner = await store();
    const kept = trace(START);
    await mergeUnit(inner, [kept]);
    // Theirs: the segments file is written, then they stall before the traces file until we have decided
    // what to do with their rows and written our segments file: longer than any pause of ours.
    const theirs = trace(START + 5, 3);
    const { theirRun, release } = await stalledBeforeTraces(inner, theirs);
    // Ours reads the hour torn (their segments, the old traces); once our segments file is in, they go
    // on, and our own traces write waits until theirs is in: the order in which dropping their rows as
    // orphans lost them (their traces in, without their segments).
    const ours = landingAfter(inner, theirRun, release);
    const mine = trace(START + 1);
    expect(await mergeIntoHourFiles(ours, [rowsOf(mine, 1)], KEEP_ALL)).toMatchObject({ conflicts: 1 });
    expect(await theirRun).toMatchObject({ conflicts: 0, written: 1 });
    await expectWhole(inner, [kept, mine, theirs]);
  });

  it('keeps the rows of a writer stalled between its two writes when ours lands first, and it merges again', async () => {
    const inner = await store();
    const kept = trace(START);
    await mergeUnit(inner, [kept]);
    const theirs = trace(START + 5, 3);
    const { theirRun, release } = await stalledBeforeTraces(inner, theirs);
    const mine = trace(START + 1);
    expect(await mergeIntoHourFiles(inner, [rowsOf(mine, 1)], KEEP_ALL)).toMatchObject({ conflicts: 0 });
    // Theirs still pending: its rows are in the segments file as orphans, dated.
    const segments = openParquet(await read(inner, 'segments'));
    const orphans = segments.metadata.key_value_metadata?.find((kv) => kv.key === ORPHANS_KEY)?.value;
    expect(Object.keys(JSON.parse(orphans!) as object)).toEqual([theirs[0]!.trace_id]);
    release();
    // Their traces write fails on ours; merged again, it finds its rows and ours.
    expect(await theirRun).toMatchObject({ conflicts: 1, written: 1 });
    await expectWhole(inner, [kept, mine, theirs]);
    const after = openParquet(await read(inner, 'segments'));
    expect(after.metadata.key_value_metadata?.some((kv) => kv.key === ORPHANS_KEY)).toBe(false);
  });

  it("takes a trace out when a writer of its older revision overwrote the newer one's segments, to be fetched again", async () => {
    const now = () => START * 1000 + 3_600_000;
    const { inner, full, result } = await olderRevisionRace(now);
    const id = full[0]!.trace_id;
    // Revision 3 in the traces file with revision 2's 3 rows: current, it would never be fetched again.
    expect(result).toMatchObject({ conflicts: 1, written: 0, withdrawn: 1 });
    expect((await readRevisions(inner, PARTITION, 0)).has(id)).toBe(false);
    // The next pass over its window finds it missing and writes it whole.
    expect(await mergeIntoHourFiles(inner, [rowsOf(full, 3)], { ...KEEP_ALL, now })).toMatchObject({
      written: 1,
    });
    await expectWhole(inner, [full]);
  });

  it('leaves such a trace in when X-Ray no longer has it: some of its segments are better than none', async () => {
    const { inner, full, result } = await olderRevisionRace(() => START * 1000 + 31 * 86_400_000);
    expect(result).toMatchObject({ conflicts: 1, written: 0, withdrawn: 0 });
    expect(await readRevisions(inner, PARTITION, 0)).toEqual(new Map([[full[0]!.trace_id, 3]]));
  });

  it('adds a unit to an hour file without re-encoding the row groups already there', async () => {
    const lake = await store();
    const first = [trace(START), trace(START + 1)];
    const second = [trace(START + 600), trace(START + 2)];
    await mergeUnit(lake, first);
    const [traces1, segments1] = await files(lake);
    expect(await mergeUnit(lake, second)).toMatchObject({
      written: 2,
      segments: 4,
    });
    const [traces2, segments2] = await files(lake);
    expect(openParquet(traces2).groupRows).toEqual([2, 2]);
    expect(groupBytes(traces2, 0).equals(groupBytes(traces1, 0))).toBe(true);
    expect(groupBytes(segments2, 0).equals(groupBytes(segments1, 0))).toBe(true);
    const ids = (await decodeParquet('traces', traces2)).map((t) => t.trace_id);
    expect(ids).toEqual([first[0], first[1], second[1], second[0]].map((d) => d![0]!.trace_id));
    expect((await decodeParquet('segments', segments2)).map((s) => s.trace_id)).toEqual(
      ids.flatMap((id) => [id, id]),
    );
  });

  it('folds row groups under the size kept into the next write, so small groups do not pile up', async () => {
    const lake = await store();
    for (let i = 0; i < 3; i++) await mergeIntoHourFiles(lake, [rowsOf(trace(START + i), 1)]);
    expect(openParquet(await read(lake, 'traces')).groupRows).toEqual([3]);
    expect(openParquet(await read(lake, 'segments')).groupRows).toEqual([6]);
  });

  it('re-encodes only the row groups holding a trace that a newer revision replaces', async () => {
    const lake = await store();
    const first = [trace(START), trace(START + 1)];
    const second = [trace(START + 2), trace(START + 3)];
    await mergeUnit(lake, first);
    await mergeUnit(lake, second);
    const [traces2, segments2] = await files(lake);
    // Late segments of the first unit's first trace arrive as revision 2.
    const late = [
      ...first[0]!,
      segment({ trace_id: first[0]![0]!.trace_id, name: 'late', start_time: START + 5 }),
    ];
    await mergeIntoHourFiles(lake, [rowsOf(late, 2)], KEEP_ALL);
    const [traces3, segments3] = await files(lake);
    // The second unit's groups are kept as they were; the first's is re-encoded after them.
    expect(openParquet(traces3).groupRows).toEqual([2, 2]);
    expect(groupBytes(traces3, 0).equals(groupBytes(traces2, 1))).toBe(true);
    expect(groupBytes(segments3, 0).equals(groupBytes(segments2, 1))).toBe(true);
    expect(openParquet(segments3).groupRows).toEqual([4, 5]);
    expect(await readRevisions(lake, PARTITION, 0)).toEqual(
      new Map([...first, ...second].map((d) => [d[0]!.trace_id, d === first[0] ? 2 : 1])),
    );
    const segments = await decodeParquet('segments', segments3);
    expect(segments.filter((s) => s.trace_id === late[0]!.trace_id).map((s) => s.name)).toEqual([
      'api',
      'worker-0',
      'late',
    ]);
    expect(segments).toHaveLength(9);
  });

  it("keeps a stopped run's orphan segments for the grace period, then drops them", async () => {
    const inner = await store();
    const kept = trace(START);
    await mergeUnit(inner, [kept]);
    const orphan = trace(START + 1);
    // The segments file is written, then the run dies before the traces file.
    const dying = withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
      if (key.startsWith('traces/')) throw new Error('killed');
      return inner.put(key, body, options);
    });
    await expect(mergeIntoHourFiles(dying, [rowsOf(orphan, 1)], KEEP_ALL)).rejects.toThrow('killed');
    expect(openParquet(await read(inner, 'segments')).rows).toBe(4);
    // The next run exports another trace of the hour (the orphan's window is redone later): within the
    // grace the orphan rows stay, dated by when they were first found, and age from that date.
    let clock = Date.UTC(2026, 10, 20, 11);
    const now = () => clock;
    await mergeIntoHourFiles(inner, [rowsOf(trace(START + 3), 1)], { ...KEEP_ALL, now });
    expect((await decodeParquet('segments', await read(inner, 'segments'))).map((s) => s.trace_id)).toContain(
      orphan[0]!.trace_id,
    );
    clock += ORPHAN_GRACE_MS - 1;
    await mergeIntoHourFiles(inner, [rowsOf(trace(START + 4), 1)], { ...KEEP_ALL, now });
    const footer = openParquet(await read(inner, 'segments')).metadata.key_value_metadata;
    expect(JSON.parse(footer!.find((kv) => kv.key === ORPHANS_KEY)!.value!)).toEqual({
      [orphan[0]!.trace_id]: Date.UTC(2026, 10, 20, 11),
    });
    // Past it, they are a stopped run's: dropped.
    clock += 1;
    const next = trace(START + 2);
    await mergeIntoHourFiles(inner, [rowsOf(next, 1)], { ...KEEP_ALL, now });
    const traceIds = (await decodeParquet('traces', await read(inner, 'traces'))).map((t) => t.trace_id);
    expect(traceIds).toHaveLength(4);
    expect(traceIds).not.toContain(orphan[0]!.trace_id);
    const segments = await decodeParquet('segments', await read(inner, 'segments'));
    expect(segments.map((s) => s.trace_id)).toEqual(traceIds.flatMap((id) => [id, id]));
    expect(openParquet(await read(inner, 'segments')).groupRows).toEqual([8]);
    expect(
      openParquet(await read(inner, 'segments')).metadata.key_value_metadata?.some(
        (kv) => kv.key === ORPHANS_KEY,
      ),
    ).toBe(false);
  });

  it("writes a stopped run's trace whole when its window is redone within the grace", async () => {
    const inner = await store();
    const orphan = trace(START + 1, 3);
    const dying = withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
      if (key.startsWith('traces/')) throw new Error('killed');
      return inner.put(key, body, options);
    });
    await expect(mergeIntoHourFiles(dying, [rowsOf(orphan, 1)], KEEP_ALL)).rejects.toThrow('killed');
    const other = trace(START + 2);
    await mergeUnit(inner, [other]);
    await mergeUnit(inner, [orphan]);
    await expectWhole(inner, [other, orphan]);
  });

  it('stops at a lake file it cannot read, naming it, and writes nothing over it', async () => {
    const lake = await store();
    await mergeUnit(lake, [trace(START)]);
    const [traces, segments] = await files(lake);
    const late = rowsOf(trace(START + 1), 1);
    const tracesKey = partKey('traces', PARTITION, 0);
    const segmentsKey = partKey('segments', PARTITION, 0);

    // Truncated traces file: no footer.
    await lake.put(tracesKey, traces.subarray(0, 100), { ifMatch: undefined });
    const truncated = mergeIntoHourFiles(lake, [late], KEEP_ALL);
    await expect(truncated).rejects.toThrow(UnreadableLakeFileError);
    await expect(truncated).rejects.toThrow(
      `cannot read the lake file ${lake.location}/${tracesKey}: not a Parquet file`,
    );
    await expect(readRevisions(lake, PARTITION, 0)).rejects.toThrow(`${lake.location}/${tracesKey}`);
    expect(Buffer.from((await lake.get(tracesKey))!.body)).toEqual(Buffer.from(traces.subarray(0, 100)));
    expect(Buffer.from((await lake.get(segmentsKey))!.body)).toEqual(Buffer.from(segments));

    // A sound traces file beside a segments file whose pages are garbage (its footer intact).
    await lake.put(tracesKey, traces, { ifMatch: undefined });
    const garbled = Uint8Array.from(segments);
    garbled.fill(0xff, 4, Math.min(200, garbled.length - 8));
    await lake.put(segmentsKey, garbled, { ifMatch: undefined });
    const replacing = rowsOf(trace(START), 2);
    replacing.trace.trace_id = (await decodeParquet('traces', traces))[0]!.trace_id;
    for (const row of replacing.segments) row.trace_id = replacing.trace.trace_id;
    await expect(mergeIntoHourFiles(lake, [replacing], KEEP_ALL)).rejects.toThrow(
      `cannot read the lake file ${lake.location}/${segmentsKey}`,
    );
    expect(Buffer.from((await lake.get(segmentsKey))!.body)).toEqual(Buffer.from(garbled));
  });

  describe('a trace whose start moves to another hour', () => {
    const BOUNDARY = Date.UTC(2026, 10, 20, 11) / 1000;
    const HOUR_11 = 'dt=2026-11-20/hour=11';
    const idsIn = async (lake: ObjectStore, table: 'traces' | 'segments', partition: string) => {
      const object = await lake.get(partKey(table, partition, 0));
      return object ? (await decodeParquet(table, object.body)).map((row) => row.trace_id) : [];
    };

    it('is taken out of the hour it was in when its late root moves it to the hour before', async () => {
      const lake = await store();
      const { root, worker } = acrossTheHour(BOUNDARY);
      const neighbour = trace(BOUNDARY + 60);
      await mergeIntoHourFiles(lake, [rowsOf([worker], 1), rowsOf(neighbour, 1)]);
      expect(await idsIn(lake, 'traces', HOUR_11)).toEqual([root.trace_id, neighbour[0]!.trace_id]);

      const result = await mergeIntoHourFiles(lake, [rowsOf([root, worker], 2)]);
      expect(result).toMatchObject({ written: 1, moved: 1, segments: 2 });
      expect(await idsIn(lake, 'traces', PARTITION)).toEqual([root.trace_id]);
      expect(await idsIn(lake, 'segments', PARTITION)).toEqual([root.trace_id, root.trace_id]);
      // The hour it left keeps its other traces, and none of its rows.
      expect(await idsIn(lake, 'traces', HOUR_11)).toEqual([neighbour[0]!.trace_id]);
      expect(await idsIn(lake, 'segments', HOUR_11)).toEqual(neighbour.map(() => neighbour[0]!.trace_id));
    });

    it('is in neither hour after a run stopped between the two writes, and in one after the run again', async () => {
      const inner = await store();
      const { root, worker } = acrossTheHour(BOUNDARY);
      await mergeIntoHourFiles(inner, [rowsOf([worker], 1)]);
      // The run dies writing the trace's new hour, after taking it out of its old one.
      const dying = withPut(inner, async (key: string, body: Uint8Array, options?: PutOptions) => {
        if (key.includes('hour=10')) throw new Error('killed');
        return inner.put(key, body, options);
      });
      await expect(mergeIntoHourFiles(dying, [rowsOf([root, worker], 2)])).rejects.toThrow('killed');
      expect(await idsIn(inner, 'traces', HOUR_11)).toEqual([]);
      // Missing everywhere, it is fetched and merged again by the run again.
      expect(await mergeIntoHourFiles(inner, [rowsOf([root, worker], 2)])).toMatchObject({
        written: 1,
        moved: 0,
      });
      expect(await idsIn(inner, 'traces', PARTITION)).toEqual([root.trace_id]);
      expect(await idsIn(inner, 'traces', HOUR_11)).toEqual([]);
    });

    it('is not written to a second hour when the lake holds it at a newer revision in another', async () => {
      const lake = await store();
      const { root, worker } = acrossTheHour(BOUNDARY);
      await mergeIntoHourFiles(lake, [rowsOf([worker], 3)]);
      const result = await mergeIntoHourFiles(lake, [rowsOf([root, worker], 2)]);
      expect(result).toMatchObject({ written: 0, moved: 0, unchanged: 1, filesWritten: 0 });
      expect(await lake.get(partKey('traces', PARTITION, 0))).toBeUndefined();
      expect(await readRevisions(lake, HOUR_11, 0)).toEqual(new Map([[root.trace_id, 3]]));
    });

    it('lands in one hour when a batch carries two of its revisions that start in different hours', async () => {
      const lake = await store();
      const { root, worker } = acrossTheHour(BOUNDARY);
      await mergeIntoHourFiles(lake, [rowsOf([root, worker], 2), rowsOf([worker], 1)]);
      expect(await readRevisions(lake, PARTITION, 0)).toEqual(new Map([[root.trace_id, 2]]));
      expect(await lake.get(partKey('traces', HOUR_11, 0))).toBeUndefined();
    });

    it('reads no other hour for a trace whose rows all start in its own', async () => {
      const inner = await store();
      const reads: string[] = [];
      const watched: ObjectStore = {
        ...withPut(inner, (key, body, options) => inner.put(key, body, options)),
        get: (key) => {
          reads.push(key);
          return inner.get(key);
        },
      };
      await mergeIntoHourFiles(watched, [rowsOf(trace(START), 1)]);
      expect(reads.every((key) => key.includes(PARTITION))).toBe(true);
    });
  });

  it('spreads traces over shards by a stable hash of their id', () => {
    const ids = Array.from({ length: 400 }, () => segment().trace_id);
    const counts = [0, 0, 0, 0];
    for (const id of ids) counts[shardOf(id, 4)]!++;
    expect(counts.every((n) => n > 60)).toBe(true);
    expect(shardOf(ids[0]!, 4)).toBe(shardOf(ids[0]!, 4));
    expect(shardOf(ids[0]!, 1)).toBe(0);
  });
});
