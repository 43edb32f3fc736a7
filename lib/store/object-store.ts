/** An object as stored: its bytes and the version tag conditional writes compare. */
export interface StoredObject {
  body: Uint8Array;
  etag: string;
}

export interface PutOptions {
  /**
   * Conditional write: the object must still have this ETag; `null` means it must not exist yet.
   * Absent: write unconditionally. A lost condition throws {@link PreconditionFailedError}.
   */
  ifMatch?: string | null;
}

/**
 * The lake's storage port: S3 (`S3Store`) or a local folder (`FsStore`). Writes are atomic per object and
 * can be conditional, which is what makes read-merge-write of hour files safe when runs overlap.
 */
export interface ObjectStore {
  /** Where the store points, for messages: `s3://bucket/prefix` or a folder path. */
  readonly location: string;
  get(key: string): Promise<StoredObject | undefined>;
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<{ etag: string }>;
  /** Keys under `prefix`, in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
  /**
   * Some bytes of an object, and its whole size: [start, end) (`end` past the object is cut to it), or the
   * last `suffix` bytes (all of them when the object is smaller). Undefined for a missing object. Optional:
   * readers that can use it (a Parquet file's footer and a few column chunks) fall back to {@link get}.
   */
  getRange?(key: string, range: ByteRange): Promise<{ body: Uint8Array; size: number } | undefined>;
  delete(key: string): Promise<void>;
}

/** A byte range of an object: [start, end), or its last `suffix` bytes. */
export type ByteRange = { start: number; end: number } | { suffix: number };

/** Checks a key is a plain relative path; stores call it before touching anything. */
export function isValidKey(key: string): boolean {
  if (key.length === 0 || key.startsWith('/') || key.includes('\\')) return false;
  return key.split('/').every((part) => part.length > 0 && part !== '.' && part !== '..');
}

/** `s3://bucket/prefix` or a folder: which store a `--lake` value names. */
export function parseLakeRoot(
  root: string,
): { kind: 's3'; bucket: string; prefix: string } | { kind: 'fs'; path: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(root);
  if (match) return { kind: 's3', bucket: match[1]!, prefix: match[2]!.replace(/\/+$/, '') };
  return { kind: 'fs', path: root };
}
