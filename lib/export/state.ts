import { PreconditionFailedError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { LeaseHeldError } from './errors.js';

export const CHECKPOINT_KEY = '_state/export/checkpoint.json';
export const LEASE_KEY = '_state/export/lease.json';

/** How far the export has got: every trace that started before `position` is in the lake. */
export interface Checkpoint {
  /** Epoch seconds. */
  position: number;
  updatedAt: string;
  runId: string;
}

const encode = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
const decode = <T>(body: Uint8Array) => JSON.parse(new TextDecoder().decode(body)) as T;

export async function readCheckpoint(store: ObjectStore): Promise<Checkpoint | undefined> {
  const object = await store.get(CHECKPOINT_KEY);
  return object ? decode<Checkpoint>(object.body) : undefined;
}

/** Moves the checkpoint forward (never back), after the data before `position` is durable. */
export async function advanceCheckpoint(
  store: ObjectStore,
  position: number,
  runId: string,
  now = new Date(),
): Promise<Checkpoint> {
  for (;;) {
    const object = await store.get(CHECKPOINT_KEY);
    const current = object ? decode<Checkpoint>(object.body) : undefined;
    if (current && current.position >= position) return current;
    const next: Checkpoint = { position, updatedAt: now.toISOString(), runId };
    try {
      await store.put(CHECKPOINT_KEY, encode(next), { ifMatch: object?.etag ?? null });
      return next;
    } catch (error) {
      if (!(error instanceof PreconditionFailedError)) throw error;
    }
  }
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
) {
  let etag: string;
  const object = await store.get(LEASE_KEY);
  if (object) {
    const lease = decode<Lease>(object.body);
    if (lease.owner !== owner && Date.parse(lease.expiresAt) > now())
      throw new LeaseHeldError(lease.owner, lease.expiresAt);
  }
  const write = async (ifMatch: string | null) => {
    const lease: Lease = { owner, expiresAt: new Date(now() + ttlMs).toISOString() };
    return (await store.put(LEASE_KEY, encode(lease), { ifMatch })).etag;
  };
  try {
    etag = await write(object?.etag ?? null);
  } catch (error) {
    if (error instanceof PreconditionFailedError) {
      const winner = await store.get(LEASE_KEY);
      const lease = winner ? decode<Lease>(winner.body) : { owner: 'unknown', expiresAt: 'unknown' };
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
      const current = await store.get(LEASE_KEY);
      if (current?.etag === etag) await store.delete(LEASE_KEY);
    },
  };
}
