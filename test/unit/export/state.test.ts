import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LeaseHeldError } from '../../../lib/export/errors.js';
import { planWindows } from '../../../lib/export/run.js';
import { acquireLease, advanceCheckpoint, readCheckpoint } from '../../../lib/export/state.js';
import { FsStore } from '../../../lib/store/fs-store.js';

const store = async () => new FsStore(await mkdtemp(join(tmpdir(), 'state-')));

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

  it('plans hour-aligned windows', () => {
    const h = 3600;
    expect(planWindows(10 * h + 600, 12 * h + 60)).toEqual([
      { from: 10 * h + 600, to: 11 * h },
      { from: 11 * h, to: 12 * h },
      { from: 12 * h, to: 12 * h + 60 },
    ]);
    expect(planWindows(5, 5)).toEqual([]);
  });
});
