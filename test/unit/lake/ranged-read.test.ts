import { describe, expect, it } from 'vitest';
import { FsStore } from '../../../lib/store/fs-store.js';
import { rangedReadOf } from '../../helpers/parquet.js';
import { tempDir } from '../../helpers/temp.js';

describe('readParquetColumns by ranges', () => {
  it("reads a file's footer and the one column asked for, a part of its bytes, the same rows as whole", async () => {
    const { ranged, whole, size, groups } = await rangedReadOf(new FsStore(await tempDir('ranged-')));
    expect(groups).toBe(4);
    expect(ranged.rows).toEqual(whole);
    expect(ranged.rows).toHaveLength(10_000);
    // The 16 KiB tail (the footer), and the id chunks before it.
    expect(ranged.bytesRead).toBeLessThan(size / 2);
  });
});
