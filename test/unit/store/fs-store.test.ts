import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../../../lib/store/fs-store.js';
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
});
