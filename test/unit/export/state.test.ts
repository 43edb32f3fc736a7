import { describe, expect, it } from 'vitest';
import { ExportStateError, LakeShardsError, LeaseHeldError } from '../../../lib/export/errors.js';
import { planWindows } from '../../../lib/export/run.js';
import { REVISIT_OVERLAP_SECONDS, scheduledRange } from '../../../lib/export/scheduled.js';
import {
  acquireLease,
  advanceCheckpoint,
  CHECKPOINT_KEY,
  checkLakeShards,
  LAKE_LAYOUT_KEY,
  LEASE_KEY,
  readCheckpoint,
  readUnprocessed,
  UNPROCESSED_KEY,
  writeUnprocessed,
} from '../../../lib/export/state.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import { tempDir } from '../../helpers/temp.js';

const store = async () => new FsStore(await tempDir('state-'));

describe('export state', () => {
  it('moves the checkpoint forward only', async () => {
    const lake = await store();
    await advanceCheckpoint(lake, 2000, 'a');
    await advanceCheckpoint(lake, 1000, 'b');
    expect(await readCheckpoint(lake)).toMatchObject({ position: 2000, runId: 'a' });
  });

  it('lets one run hold the lease, and another take it over once it expires', async () => {
    const lake = await store();
    let now = 0;
    const first = await acquireLease(lake, 'run-1', 1000, () => now);
    await expect(acquireLease(lake, 'run-2', 1000, () => now)).rejects.toThrow(LeaseHeldError);
    now = 1001;
    const second = await acquireLease(lake, 'run-2', 1000, () => now);
    await expect(first.renew()).rejects.toThrow();
    await second.release();
    await (await acquireLease(lake, 'run-3', 1000, () => now)).release();
  });

  it('refuses a checkpoint or lease it cannot read, naming the file, what is wrong and what to do', async () => {
    const lake = await store();
    const put = (key: string, text: string) => lake.put(key, new TextEncoder().encode(text));
    const where = (key: string) => `${lake.location}/${key}`;
    await put(CHECKPOINT_KEY, '{"position": 17');
    await expect(readCheckpoint(lake)).rejects.toThrow(ExportStateError);
    await expect(readCheckpoint(lake)).rejects.toThrow(`${where(CHECKPOINT_KEY)} is not JSON (`);
    await expect(advanceCheckpoint(lake, 2000, 'a')).rejects.toThrow(
      /remove it and export with --from\/--to/,
    );
    await put(CHECKPOINT_KEY, '{"position": "yesterday"}');
    await expect(readCheckpoint(lake)).rejects.toThrow(
      `${where(CHECKPOINT_KEY)} has no position in epoch seconds ("yesterday")`,
    );
    await put(CHECKPOINT_KEY, '{"position": 1000, "revisitPosition": null}');
    await expect(readCheckpoint(lake)).rejects.toThrow(
      'has a revisitPosition that is not epoch seconds (null)',
    );
    await put(CHECKPOINT_KEY, '[]');
    await expect(readCheckpoint(lake)).rejects.toThrow('has no position');
    await put(LEASE_KEY, '{"owner": "run-1"}');
    await expect(acquireLease(lake, 'run-2', 1000)).rejects.toThrow(
      `${where(LEASE_KEY)} lacks its owner or expiresAt; remove it if no export is running`,
    );
    // What it wrote itself it reads back.
    await lake.delete(CHECKPOINT_KEY);
    await lake.delete(LEASE_KEY);
    await advanceCheckpoint(lake, 2000, 'a', new Date(0), 'revisitPosition');
    expect(await readCheckpoint(lake)).toMatchObject({ position: 0, revisitPosition: 2000 });
    await (await acquireLease(lake, 'run-2', 1000)).release();
  });

  it('refuses an unprocessed list it cannot read, naming the file and the bad entry, and removes an empty one', async () => {
    const lake = await store();
    const put = (text: string) => lake.put(UNPROCESSED_KEY, new TextEncoder().encode(text));
    const where = `${lake.location}/${UNPROCESSED_KEY}`;
    expect(await readUnprocessed(lake)).toEqual({ traces: {}, etag: null });
    await put('{"traces": ["1-5759e988-bd862e3fe1be46a994272793"]}');
    await expect(readUnprocessed(lake)).rejects.toThrow(`${where} has no "traces" object`);
    await put('{"traces": {"not-a-trace": "2026-11-20T10:00:00.000Z"}}');
    await expect(readUnprocessed(lake)).rejects.toThrow(
      `${where} has "not-a-trace", which is not a trace id; fix it`,
    );
    await put('{"traces": {"1-5759e988-bd862e3fe1be46a994272793": 17}}');
    await expect(readUnprocessed(lake)).rejects.toThrow('has a trace whose value is not an ISO time');
    const id = '1-5759e988-bd862e3fe1be46a994272793';
    await writeUnprocessed(
      lake,
      { [id]: '2026-11-20T10:00:00.000Z' },
      (await lake.get(UNPROCESSED_KEY))!.etag,
    );
    const written = await readUnprocessed(lake);
    expect(written.traces).toEqual({ [id]: '2026-11-20T10:00:00.000Z' });
    await writeUnprocessed(lake, {}, written.etag);
    expect(await lake.get(UNPROCESSED_KEY)).toBeUndefined();
  });

  describe('the part files an hour (shards)', () => {
    const partFile = (lake: FsStore, hour: string, index: number) =>
      lake.put(
        `traces/dt=2026-11-20/hour=${hour}/part-${String(index).padStart(5, '0')}.parquet`,
        new Uint8Array(1),
        {
          ifMatch: null,
        },
      );

    it("records a new lake's count and holds every later export to it", async () => {
      const lake = await store();
      await checkLakeShards(lake, 4, new Date(0));
      expect(JSON.parse(new TextDecoder().decode((await lake.get(LAKE_LAYOUT_KEY))!.body))).toEqual({
        shards: 4,
        since: '1970-01-01T00:00:00.000Z',
      });
      await checkLakeShards(lake, 4);
      const other = checkLakeShards(lake, 1);
      await expect(other).rejects.toThrow(LakeShardsError);
      await expect(other).rejects.toThrow(
        `shards: the lake at ${lake.location} is written with 4 part file(s) an hour (_state/lake.json), not 1`,
      );
    });

    it('judges a lake exported before the record by its part files, and records what they allow', async () => {
      const single = await store();
      await partFile(single, '10', 0);
      await partFile(single, '11', 0);
      await expect(checkLakeShards(single, 4)).rejects.toThrow(
        'holds hours written with 1 part file an hour',
      );
      await checkLakeShards(single, 1);
      expect(JSON.parse(new TextDecoder().decode((await single.get(LAKE_LAYOUT_KEY))!.body))).toMatchObject({
        shards: 1,
      });

      const sharded = await store();
      await partFile(sharded, '10', 0);
      await partFile(sharded, '10', 2);
      await expect(checkLakeShards(sharded, 1)).rejects.toThrow('at least 3 part files an hour');
      await expect(checkLakeShards(sharded, 2)).rejects.toThrow(LakeShardsError);
      await checkLakeShards(sharded, 3);
    });

    it('refuses a record it cannot read, naming the file', async () => {
      const lake = await store();
      await lake.put(LAKE_LAYOUT_KEY, new TextEncoder().encode('{"shards": 0}'), { ifMatch: null });
      await expect(checkLakeShards(lake, 1)).rejects.toThrow(ExportStateError);
      await expect(checkLakeShards(lake, 1)).rejects.toThrow(
        `${lake.location}/${LAKE_LAYOUT_KEY} lacks shards, a whole number from 1`,
      );
    });
  });

  it('plans hour-aligned windows', () => {
    const h = 3600;
    expect(planWindows(10 * h + 600, 12 * h + 60)).toEqual([
      { from: 10 * h + 600, to: 11 * h },
      { from: 11 * h, to: 12 * h },
      { from: 12 * h, to: 12 * h + 60 },
    ]);
    expect(planWindows(5, 5)).toEqual([]);
  });

  it('revisits incrementally: from where the last revisit stopped, never past the horizon', async () => {
    const lake = await store();
    const config = { lagMinutes: 5, revisitHours: 6, initialLookbackHours: 1 };
    const now = 1_800_000_000;
    expect(await scheduledRange(lake, config, now)).toEqual({
      from: now - 300 - 3600,
      to: now - 300,
      revisit: { from: now - 6 * 3600, to: now },
    });
    await advanceCheckpoint(lake, now - 300, 'a');
    await advanceCheckpoint(lake, now, 'a', new Date(), 'revisitPosition');
    const next = await scheduledRange(lake, config, now + 300);
    expect(next).toEqual({
      from: now - 300,
      to: now,
      revisit: { from: now - REVISIT_OVERLAP_SECONDS, to: now + 300 },
    });
    const muchLater = await scheduledRange(lake, config, now + 24 * 3600);
    expect(muchLater.revisit?.from).toBe(now + 24 * 3600 - 6 * 3600);
  });
});
