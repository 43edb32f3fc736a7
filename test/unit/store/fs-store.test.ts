import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { etagOf, FsStore } from '../../../lib/store/fs-store.js';
import { objectStoreContract } from '../../helpers/object-store-contract.js';
import { tempDir } from '../../helpers/temp.js';

objectStoreContract('FsStore', async () => {
  const dir = await tempDir('fs-store-');
  return { store: new FsStore(dir), openAgain: () => new FsStore(dir) };
});

describe('FsStore', () => {
  it('leaves no temporary or lock files behind, even after a lost condition', async () => {
    const dir = await tempDir('fs-store-');
    const store = new FsStore(dir);
    await store.put('a/b', new Uint8Array([1]), { ifMatch: null });
    await store.put('a/b', new Uint8Array([2]), { ifMatch: null }).catch(() => {});
    expect(await readdir(join(dir, 'a'))).toEqual(['b']);
  });

  it("gives S3's ETag for a single-part object: the quoted MD5 of the body", async () => {
    const store = new FsStore(await tempDir('fs-store-'));
    const body = new TextEncoder().encode('hello lake');
    // md5sum of the same ten bytes.
    expect(etagOf(body)).toBe('"19c12bd53de55e9e6ce0f1c0887ce899"');
    const { etag } = await store.put('k', body, { ifMatch: null });
    expect(etag).toBe(etagOf(body));
    expect((await store.get('k'))?.etag).toBe(etagOf(body));
  });
});
