import { describe, expect, it } from 'vitest';
import { hoursDue } from '../../../lib/export/heal.js';
import { advanceCheckpoint } from '../../../lib/export/state.js';
import { ORPHAN_GRACE_MS } from '../../../lib/lake/hour-files.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import { tempDir } from '../../helpers/temp.js';

const HOUR = 3600;
const NOON = Date.UTC(2026, 10, 21, 12) / 1000;

async function lakeAt(position: number, healedPosition?: number) {
  const store = new FsStore(await tempDir('heal-'));
  await advanceCheckpoint(store, position, 'run');
  if (healedPosition !== undefined)
    await advanceCheckpoint(store, healedPosition, 'run', new Date(), 'healedPosition');
  return store;
}

describe('hoursDue', () => {
  it('starts a lake at its last hour past the revisit window and the grace, then goes on from where it stopped', async () => {
    const now = NOON + 20 * 60;
    // 12:20 − 6 h revisit − the orphans' grace (15 min) = 06:05: hour 05 is the last settled one.
    expect(ORPHAN_GRACE_MS).toBe(15 * 60_000);
    expect(await hoursDue(await lakeAt(now), { now, revisitHours: 6, maxHours: 2 })).toEqual({
      from: NOON - 7 * HOUR,
      to: NOON - 6 * HOUR,
    });
    // Behind by three hours: two of them this run (maxHours), the third the next.
    expect(await hoursDue(await lakeAt(now, NOON - 9 * HOUR), { now, revisitHours: 6, maxHours: 2 })).toEqual(
      { from: NOON - 9 * HOUR, to: NOON - 7 * HOUR },
    );
    // Up to date: nothing due.
    expect(
      await hoursDue(await lakeAt(now, NOON - 6 * HOUR), { now, revisitHours: 6, maxHours: 2 }),
    ).toBeUndefined();
  });

  it('never checks hours the export has not reached, and nothing when turned off or on a lake never exported', async () => {
    const now = NOON;
    // The export is a day behind: its position, not the clock, bounds what is settled.
    const behind = await lakeAt(NOON - 24 * HOUR, NOON - 30 * HOUR);
    expect(await hoursDue(behind, { now, revisitHours: 1, maxHours: 24 })).toEqual({
      from: NOON - 30 * HOUR,
      to: NOON - 25 * HOUR,
    });
    expect(await hoursDue(behind, { now, revisitHours: 1, maxHours: 0 })).toBeUndefined();
    const empty = new FsStore(await tempDir('heal-'));
    expect(await hoursDue(empty, { now, revisitHours: 1, maxHours: 2 })).toBeUndefined();
  });
});
