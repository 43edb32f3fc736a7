import { describe, expect, it } from 'vitest';
import { InvalidKeyError, PreconditionFailedError } from '../../lib/store/errors.js';
import type { ObjectStore } from '../../lib/store/object-store.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined) => (body ? new TextDecoder().decode(body) : undefined);

/**
 * The behaviour every ObjectStore must have. `open` returns a fresh, empty store; `openAgain` a second
 * handle on the same storage (another process, another run), used to prove conditional writes race safely.
 */
export function objectStoreContract(
  name: string,
  open: () => Promise<{ store: ObjectStore; openAgain: () => ObjectStore }>,
) {
  describe(`${name} (ObjectStore contract)`, () => {
    it('reads back what it wrote, with a stable ETag', async () => {
      const { store } = await open();
      const { etag } = await store.put('traces/dt=2026-11-20/hour=10/part-00000.parquet', bytes('v1'));
      const read = await store.get('traces/dt=2026-11-20/hour=10/part-00000.parquet');
      expect(text(read?.body)).toBe('v1');
      expect(read?.etag).toBe(etag);
    });

    it('answers undefined for a missing object', async () => {
      const { store } = await open();
      expect(await store.get('nothing/here')).toBeUndefined();
      expect(await store.getRange?.('nothing/here', { suffix: 8 })).toBeUndefined();
    });

    it('reads a byte range or the last bytes of an object, with its whole size', async () => {
      const { store } = await open();
      if (!store.getRange) throw new Error(`${name} has no getRange`);
      await store.put('r/obj', bytes('0123456789'));
      const read = async (range: Parameters<NonNullable<ObjectStore['getRange']>>[1]) => {
        const result = await store.getRange!('r/obj', range);
        return { text: text(result?.body), size: result?.size };
      };
      expect(await read({ start: 2, end: 5 })).toEqual({ text: '234', size: 10 });
      expect(await read({ start: 7, end: 100 })).toEqual({ text: '789', size: 10 });
      expect(await read({ suffix: 4 })).toEqual({ text: '6789', size: 10 });
      expect(await read({ suffix: 64 })).toEqual({ text: '0123456789', size: 10 });
      expect(await read({ start: 10, end: 20 })).toEqual({ text: '', size: 10 });
      // (Not asked of an empty object: nothing reads one by ranges, and s3rver never answers a ranged GET of
      // one, where S3 answers 416, which S3Store takes as size 0.)
    });

    it('lists keys under a prefix in order, and only those', async () => {
      const { store } = await open();
      for (const key of ['a/2', 'a/1', 'a/b/3', 'ab/4', 'c/5']) await store.put(key, bytes(key));
      const listed: string[] = [];
      for await (const key of store.list('a/')) listed.push(key);
      expect(listed).toEqual(['a/1', 'a/2', 'a/b/3']);
    });

    it('deletes, and deleting a missing object is not an error', async () => {
      const { store } = await open();
      await store.put('x/y', bytes('1'));
      await store.delete('x/y');
      await store.delete('x/y');
      expect(await store.get('x/y')).toBeUndefined();
    });

    it('creates only if absent when ifMatch is null', async () => {
      const { store } = await open();
      await store.put('k', bytes('first'), { ifMatch: null });
      await expect(store.put('k', bytes('second'), { ifMatch: null })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(text((await store.get('k'))?.body)).toBe('first');
    });

    it('replaces only the version it read when ifMatch is an ETag', async () => {
      const { store } = await open();
      const { etag: v1 } = await store.put('k', bytes('v1'));
      const { etag: v2 } = await store.put('k', bytes('v2'), { ifMatch: v1 });
      await expect(store.put('k', bytes('stale'), { ifMatch: v1 })).rejects.toBeInstanceOf(
        PreconditionFailedError,
      );
      expect(text((await store.get('k'))?.body)).toBe('v2');
      expect(v2).not.toBe(v1);
    });

    it('lets exactly one of two racing read-modify-writes win', async () => {
      const { store, openAgain } = await open();
      const { etag } = await store.put('counter', bytes('0'));
      const other = openAgain();
      const results = await Promise.allSettled([
        store.put('counter', bytes('from-a'), { ifMatch: etag }),
        other.put('counter', bytes('from-b'), { ifMatch: etag }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(PreconditionFailedError);
    });

    it('refuses keys that would escape the store', async () => {
      const { store } = await open();
      for (const key of ['../x', 'a/../../x', '/abs', '', 'a//b']) {
        await expect(store.put(key, bytes('x'))).rejects.toBeInstanceOf(InvalidKeyError);
      }
    });
  });
}
