import { parsePartKey } from '../lake/hour-files.js';
import { TABLES } from '../lake/schema.js';
import { PreconditionFailedError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { isTraceId } from '../xray/ids.js';
import { ExportStateError, LakeShardsError, LeaseHeldError } from './errors.js';

export const CHECKPOINT_KEY = '_state/export/checkpoint.json';
/** The main (scheduled) export's lease; backfill windows take leases of their own names. */
export const LEASE_KEY = '_state/export/lease.json';
export const leaseKey = (name: string) =>
  name === 'export' ? LEASE_KEY : `_state/export/leases/${name}.json`;

/** How far the export has got: every trace that started before `position` is in the lake. */
export interface Checkpoint {
  /** Epoch seconds. */
  position: number;
  /**
   * Epoch seconds up to which traces were re-scanned by update time (the revisit pass), so each run lists
   * only what changed since the last one instead of the whole revisit horizon again.
   */
  revisitPosition?: number;
  /**
   * Epoch seconds (a whole hour) before which scheduled runs have checked and mended the lake's hours
   * (lib/export/heal.ts), so each hour is checked once.
   */
  healedPosition?: number;
  updatedAt: string;
  runId: string;
}

const encode = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/**
 * Parses a state file, refusing one that is not JSON or lacks what `check` asks for (it returns the problem,
 * or nothing when the value is sound) with an {@link ExportStateError} naming the file and `remedy`.
 */
function decode<T>(
  store: ObjectStore,
  key: string,
  body: Uint8Array,
  check: (value: Partial<T>) => string | undefined,
  remedy: string,
): T {
  let value: Partial<T>;
  try {
    value = JSON.parse(new TextDecoder().decode(body)) as Partial<T>;
  } catch (error) {
    throw new ExportStateError(
      `${store.location}/${key}`,
      `is not JSON (${(error as Error).message})`,
      remedy,
      {
        cause: error,
      },
    );
  }
  const problem = typeof value === 'object' && value !== null ? check(value) : 'holds no object';
  if (problem) throw new ExportStateError(`${store.location}/${key}`, problem, remedy);
  return value as T;
}

const finite = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
const CHECKPOINT_REMEDY =
  'fix it (position, revisitPosition and healedPosition are epoch seconds) or remove it and export with --from/--to: ' +
  're-exporting what the lake already holds costs only the listing, traces already current are not fetched again';

function decodeCheckpoint(store: ObjectStore, body: Uint8Array): Checkpoint {
  return decode<Checkpoint>(
    store,
    CHECKPOINT_KEY,
    body,
    (c) =>
      !finite(c.position)
        ? `has no position in epoch seconds (${JSON.stringify(c.position)})`
        : c.revisitPosition !== undefined && !finite(c.revisitPosition)
          ? `has a revisitPosition that is not epoch seconds (${JSON.stringify(c.revisitPosition)})`
          : c.healedPosition !== undefined && !finite(c.healedPosition)
            ? `has a healedPosition that is not epoch seconds (${JSON.stringify(c.healedPosition)})`
            : undefined,
    CHECKPOINT_REMEDY,
  );
}

export async function readCheckpoint(store: ObjectStore): Promise<Checkpoint | undefined> {
  const object = await store.get(CHECKPOINT_KEY);
  return object ? decodeCheckpoint(store, object.body) : undefined;
}

/**
 * Moves the checkpoint forward (never back), after the data before `position` is durable; with
 * `field: 'revisitPosition'` (or `'healedPosition'`), the revisit pass's (or the mending's) position instead.
 */
export async function advanceCheckpoint(
  store: ObjectStore,
  position: number,
  runId: string,
  now = new Date(),
  field: 'position' | 'revisitPosition' | 'healedPosition' = 'position',
): Promise<Checkpoint> {
  for (;;) {
    const object = await store.get(CHECKPOINT_KEY);
    const current = object ? decodeCheckpoint(store, object.body) : undefined;
    if (current && (current[field] ?? Number.NEGATIVE_INFINITY) >= position) return current;
    const next: Checkpoint = {
      ...(current ?? { position: 0 }),
      [field]: position,
      updatedAt: now.toISOString(),
      runId,
    };
    try {
      await store.put(CHECKPOINT_KEY, encode(next), { ifMatch: object?.etag ?? null });
      return next;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
}

/**
 * Traces a run listed but could not fetch (BatchGetTraces kept them unprocessed): the checkpoint has moved
 * past them, so the next run to the live edge asks for them again, by id, until X-Ray no longer keeps them.
 */
export const UNPROCESSED_KEY = '_state/export/unprocessed.json';

export interface UnprocessedTraces {
  /** Trace ids, each with the first time (ISO) a run failed to fetch it. */
  traces: Record<string, string>;
}

const UNPROCESSED_REMEDY =
  'fix it ({"traces": {"<trace id>": "<ISO time>"}}) or remove it: its traces are then no longer asked for again';

/** The traces left unprocessed by earlier runs, and the file's ETag (null when there is none). */
export async function readUnprocessed(
  store: ObjectStore,
): Promise<{ traces: Record<string, string>; etag: string | null }> {
  const object = await store.get(UNPROCESSED_KEY);
  if (!object) return { traces: {}, etag: null };
  const value = decode<UnprocessedTraces>(
    store,
    UNPROCESSED_KEY,
    object.body,
    (u) => {
      if (typeof u.traces !== 'object' || u.traces === null || Array.isArray(u.traces))
        return 'has no "traces" object';
      const bad = Object.keys(u.traces).find((id) => !isTraceId(id));
      if (bad !== undefined) return `has ${JSON.stringify(bad)}, which is not a trace id`;
      if (!Object.values(u.traces).every((since) => typeof since === 'string'))
        return 'has a trace whose value is not an ISO time';
      return undefined;
    },
    UNPROCESSED_REMEDY,
  );
  return { traces: value.traces, etag: object.etag };
}

/** Replaces the list (conditionally on `etag`, see {@link readUnprocessed}); an empty one removes the file. */
export async function writeUnprocessed(
  store: ObjectStore,
  traces: Record<string, string>,
  etag: string | null,
): Promise<void> {
  if (Object.keys(traces).length === 0) {
    if (etag !== null) await store.delete(UNPROCESSED_KEY);
    return;
  }
  await store.put(UNPROCESSED_KEY, encode({ traces } satisfies UnprocessedTraces), { ifMatch: etag });
}

interface Lease {
  owner: string;
  expiresAt: string;
}

/**
 * Takes the export lease for `ttlMs`, so two runs never export at once (a second one fails fast with
 * {@link LeaseHeldError}). An expired lease is taken over. Returns `renew` and `release`.
 */
export async function acquireLease(
  store: ObjectStore,
  owner: string,
  ttlMs: number,
  now: () => number = Date.now,
  name = 'export',
) {
  const key = leaseKey(name);
  const decodeLease = (body: Uint8Array) =>
    decode<Lease>(
      store,
      key,
      body,
      (l) =>
        typeof l.owner === 'string' && Number.isFinite(Date.parse(String(l.expiresAt)))
          ? undefined
          : 'lacks its owner or expiresAt',
      'remove it if no export is running (a lease only keeps two runs from exporting at once)',
    );
  let etag: string;
  const object = await store.get(key);
  if (object) {
    const lease = decodeLease(object.body);
    if (lease.owner !== owner && Date.parse(lease.expiresAt) > now())
      throw new LeaseHeldError(lease.owner, lease.expiresAt);
  }
  const write = async (ifMatch: string | null) => {
    const lease: Lease = { owner, expiresAt: new Date(now() + ttlMs).toISOString() };
    return (await store.put(key, encode(lease), { ifMatch })).etag;
  };
  try {
    etag = await write(object?.etag ?? null);
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      const winner = await store.get(key);
      const lease = winner ? decodeLease(winner.body) : { owner: 'unknown', expiresAt: 'unknown' };
      throw new LeaseHeldError(lease.owner, lease.expiresAt);
    }
    throw error;
  }
  return {
    /** Extends the lease; fails if another run took it over meanwhile. */
    async renew() {
      etag = await write(etag);
    },
    async release() {
      const current = await store.get(key);
      if (current?.etag === etag) await store.delete(key);
    },
  };
}

/** The lake's layout, recorded by its first export: how many part files an hour (`--shards`). */
export const LAKE_LAYOUT_KEY = '_state/lake.json';

interface LakeLayout {
  shards: number;
  since: string;
}

/**
 * Checks that an export spreads each hour over as many part files as the lake was written with, and records
 * the number on a lake's first export. Part files are chosen by a hash of the trace id modulo the count, and a
 * trace's current revision is looked for in its own part file only: exported again with another count (late
 * segments, the revisit pass, a re-run), a trace would be written to its new part file with its old rows left
 * in the old one, twice in the lake. A lake exported before the record is judged by its part files: one whose
 * hours have only `part-00000` was written with 1, one with `part-0000k` with more than k.
 * @throws LakeShardsError when the counts differ, before anything is exported.
 */
export async function checkLakeShards(store: ObjectStore, shards: number, now = new Date()): Promise<void> {
  const remedy = 'fix it ({"shards": N}, the part files an hour the lake is written with) or remove it';
  for (;;) {
    const object = await store.get(LAKE_LAYOUT_KEY);
    if (object) {
      const layout = decode<LakeLayout>(
        store,
        LAKE_LAYOUT_KEY,
        object.body,
        (l) =>
          Number.isInteger(l.shards) && l.shards! >= 1 ? undefined : 'lacks shards, a whole number from 1',
        remedy,
      );
      if (layout.shards !== shards)
        throw new LakeShardsError(store.location, layout.shards, shards, 'record');
      return;
    }
    let highest = -1;
    for await (const key of store.list(`${TABLES.traces}/`))
      highest = Math.max(highest, parsePartKey(key)?.shard ?? -1);
    if (highest >= 0 && (highest === 0 ? shards !== 1 : shards <= highest))
      throw new LakeShardsError(store.location, highest + 1, shards, 'part files');
    try {
      await store.put(LAKE_LAYOUT_KEY, encode({ shards, since: now.toISOString() } satisfies LakeLayout), {
        ifMatch: null,
      });
      return;
    } catch (error) {
      // Another first export recorded it meanwhile: check against theirs.
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
}
