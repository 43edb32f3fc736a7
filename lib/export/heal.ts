import { ORPHAN_GRACE_MS } from '../lake/hour-files.js';
import { partitionStartMs, type Redactor } from '../lake/schema.js';
import { type LakeProblem, repairLake, verifyLake } from '../lake/verify.js';
import type { ObjectStore } from '../store/object-store.js';
import type { TraceSource } from '../xray/source.js';
import { exportRange } from './run.js';
import { advanceCheckpoint, readCheckpoint } from './state.js';

const SECONDS_PER_HOUR = 3600;

/** What {@link healHours} found and did over a range of hours. */
export interface HealReport {
  /** ISO hours checked: [from, to). */
  from: string;
  to: string;
  /** Problems `verify` found before the repair (see PROBLEM_KINDS in lib/lake/verify.ts). */
  problemsFound: number;
  orphansDropped: number;
  tracesWithdrawn: number;
  duplicatesRemoved: number;
  /** Traces exported again into the hours holding orphan rows (withdrawn traces', a stopped run's). */
  tracesReexported: number;
  /** What neither a merge nor a re-export could fix (an unreadable file, a trace only in the wrong hour). */
  problemsLeft: LakeProblem[];
  /**
   * Traces whose orphan rows were dated now, not dropped (they may be a writer's between its two puts): the
   * hours are checked again once the grace is past, when they are dropped unless a run claimed them.
   */
  pendingOrphanTraces: number;
}

export interface HealOptions {
  /** Epoch seconds, whole hours: the hours checked. */
  from: number;
  to: number;
  shards?: number;
  redact?: Redactor;
  /** Epoch ms now (orphans' grace is counted from it). */
  now?: () => number;
  /** Epoch ms: no hour is begun exporting again past it (a Lambda's deadline). */
  stopAt?: number;
}

/**
 * Checks a range of hours the way `xray-lake verify --repair` does and mends them: orphan rows past the
 * grace dropped, duplicated copies removed, incomplete traces withdrawn; then every hour left holding
 * orphan rows within the grace (the withdrawn traces' own, or a stopped run's just dated) is exported again
 * at once, which fetches the traces X-Ray has for them (not for a stopped run's trace that moved to another
 * hour: its rows go when the grace is past). Nothing is left for a person but what no rewrite can fix.
 * Every rewrite is a merge's conditional write, safe beside other writers; an export cut short by `stopAt`
 * leaves its hour's orphans pending, for the next check.
 */
export async function healHours(
  deps: { source: TraceSource; store: ObjectStore },
  options: HealOptions,
): Promise<HealReport> {
  const now = options.now ?? Date.now;
  const repaired = await repairLake(deps.store, { from: options.from, to: options.to, now });
  // A withdrawn trace's rows stay as orphans dated now, so its hour is among these (`reexport` names no other).
  const hours = repaired.after.pendingOrphanHours;
  let tracesReexported = 0;
  for (const hour of hours) {
    if (options.stopAt !== undefined && Date.now() >= options.stopAt) break;
    const start = partitionStartMs(hour) / 1000;
    const again = await exportRange(deps, {
      from: start,
      to: start + SECONDS_PER_HOUR,
      ...(options.shards !== undefined && { shards: options.shards }),
      ...(options.redact && { redact: options.redact }),
      ...(options.stopAt !== undefined && { stopAt: options.stopAt }),
      now,
    });
    tracesReexported += again.tracesExported;
  }
  // A re-export merges the traces back with their rows: what is left is the lake after it.
  const left =
    hours.length > 0
      ? await verifyLake(deps.store, { from: options.from, to: options.to, now })
      : repaired.after;
  return {
    from: new Date(options.from * 1000).toISOString(),
    to: new Date(options.to * 1000).toISOString(),
    problemsFound: repaired.before.problems.length,
    orphansDropped: repaired.orphansDropped,
    tracesWithdrawn: repaired.tracesWithdrawn,
    duplicatesRemoved: repaired.duplicatesRemoved,
    tracesReexported,
    problemsLeft: left.problems,
    pendingOrphanTraces: left.pendingOrphanTraces,
  };
}

/**
 * The hours a scheduled run mends next: from where the last one stopped (`healedPosition` in the
 * checkpoint; a new lake starts at the last final hour) up to the last hour no scheduled pass writes to any
 * more (older than the revisit window, the export's position and the orphans' grace), at most `maxHours`.
 * Undefined when none is due. Each hour is checked once, so the cost is an hour's read per hour, not a
 * re-read of the revisit window every run.
 */
export async function hoursDue(
  store: ObjectStore,
  options: { now: number; revisitHours: number; maxHours: number },
): Promise<{ from: number; to: number } | undefined> {
  if (options.maxHours <= 0) return undefined;
  const checkpoint = await readCheckpoint(store);
  if (!checkpoint) return undefined;
  const settled = Math.min(options.now - options.revisitHours * SECONDS_PER_HOUR, checkpoint.position);
  const end = Math.floor((settled - ORPHAN_GRACE_MS / 1000) / SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
  const from = checkpoint.healedPosition ?? end - SECONDS_PER_HOUR;
  const to = Math.min(end, from + options.maxHours * SECONDS_PER_HOUR);
  return to > from ? { from, to } : undefined;
}

/** Records that the hours before `position` (epoch seconds) are mended; never moves back. */
export async function advanceHealed(store: ObjectStore, position: number, runId: string): Promise<void> {
  await advanceCheckpoint(store, position, runId, new Date(), 'healedPosition');
}
