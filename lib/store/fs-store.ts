import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { hexDigest } from '../digest.js';
import { InvalidKeyError, PreconditionFailedError, StoreError } from './errors.js';
import {
  type ByteRange,
  isValidKey,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.js';

/** A lock older than this is taken to belong to a process that died holding it. */
const STALE_LOCK_MS = 30_000;
const LOCK_RETRY_MS = 5;

/**
 * A local folder as an object store. A write goes to a temporary file in the same folder and is renamed
 * over the key, so readers see the old object or the new one, never part of either. Conditional writes
 * hold a per-key lock file (created with O_EXCL) while they compare the ETag and rename, so the
 * compare-and-swap holds across processes, as S3's conditional writes do.
 */
export class FsStore implements ObjectStore {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = root;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const body = new Uint8Array(await readFile(this.path(key)));
      return { body, etag: etagOf(body) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`cannot read ${key} in ${this.root}`, { cause: error });
    }
  }

  async getRange(key: string, range: ByteRange): Promise<{ body: Uint8Array; size: number } | undefined> {
    let handle;
    try {
      handle = await open(this.path(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreError(`cannot read ${key} in ${this.root}`, { cause: error });
    }
    try {
      const { size } = await handle.stat();
      const start = 'suffix' in range ? Math.max(0, size - range.suffix) : Math.min(range.start, size);
      const end = 'suffix' in range ? size : Math.min(Math.max(range.end, start), size);
      const body = new Uint8Array(end - start);
      let read = 0;
      while (read < body.length) {
        const { bytesRead } = await handle.read(body, read, body.length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return { body: body.subarray(0, read), size };
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const path = this.path(key);
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, body);
    const release = options.ifMatch === undefined ? undefined : await this.lock(path);
    try {
      if (options.ifMatch !== undefined) {
        const current = await this.get(key);
        const actual = current?.etag ?? null;
        if (actual !== options.ifMatch) throw new PreconditionFailedError(key, options.ifMatch);
      }
      await rename(temporary, path);
      return { etag: etagOf(body) };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    } finally {
      await release?.();
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const keys: string[] = [];
    const walk = async (dir: string) => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.endsWith('.tmp') && !entry.name.endsWith('.lock')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) keys.push(key);
        }
      }
    };
    // Walk only the deepest folder the prefix names, not the whole lake.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(join(this.root, folder));
    yield* keys.sort();
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  private path(key: string): string {
    if (!isValidKey(key)) throw new InvalidKeyError(key);
    return join(this.root, ...key.split('/'));
  }

  private async lock(path: string): Promise<() => Promise<void>> {
    const lockPath = `${path}.lock`;
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.close();
        return () => unlink(lockPath).catch(() => {});
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = await stat(lockPath).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > STALE_LOCK_MS) await unlink(lockPath).catch(() => {});
        else await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
      }
    }
  }
}

/** S3's ETag for a single-part object: the quoted MD5 of the body. */
export function etagOf(body: Uint8Array): string {
  return `"${hexDigest('md5', body)}"`;
}
