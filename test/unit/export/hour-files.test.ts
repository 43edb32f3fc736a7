import { describe, expect, it } from 'vitest';
import { mergeIntoHourFiles, partKey, readRevisions, shardOf } from '../../../lib/lake/hour-files.js';
import { decodeParquet } from '../../../lib/lake/parquet.js';
import { traceToRows } from '../../../lib/lake/schema.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import type { ObjectStore, PutOptions } from '../../../lib/store/object-store.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { segment } from '../../helpers/segments.js';
import { tempDir } from '../../helpers/temp.js';

const START = Date.UTC(2026, 10, 20, 10, 15) / 1000;
const PARTITION = 'dt=2026-11-20/hour=10';
const rowsOf = (documents: SegmentDocument[], revision: number) => {
  const assembled = assembleTrace(documents[0]!.trace_id, documents);
  return traceToRows(assembled, summarizeTrace(assembled, revision), { exportedAt: 0 });
};
const store = async () => new FsStore(await tempDir('hour-files-'));

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
    const racing: ObjectStore = {
      location: inner.location,
      get: (key) => inner.get(key),
      list: (prefix) => inner.list(prefix),
      delete: (key) => inner.delete(key),
      put: async (key: string, body: Uint8Array, options?: PutOptions) => {
        if (!raced) {
          raced = true;
          await mergeIntoHourFiles(inner, [rowsOf([theirs], 1)]);
        }
        return inner.put(key, body, options);
      },
    };
    const result = await mergeIntoHourFiles(racing, [rowsOf([mine], 1)]);
    expect(result.conflicts).toBe(1);
    expect([...(await readRevisions(inner, PARTITION, 0)).keys()].sort()).toEqual(
      [mine.trace_id, theirs.trace_id].sort(),
    );
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
