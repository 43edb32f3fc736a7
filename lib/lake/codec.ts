/**
 * The lake's page compression. Files are written with ZSTD where the runtime's zlib has it (Node 22.15 and
 * later, so Lambda's `nodejs22.x`) and with GZIP where it does not (Node 20); both are read everywhere.
 *
 * Why ZSTD at level 2 (bench/README.md, "Exporter", twelfth session; the segments table's pages of 4,005
 * simulated traces, Node 22.23): 3.7 µs a trace to compress against GZIP's 27 at zlib's default level,
 * and 554 bytes a trace against 578. Level 1 was as fast and larger (572); level 3, ZSTD's default and
 * Athena's, slower (8.6 µs) and larger (565) on these pages; 6 smaller by 3 bytes for 5× the time. Athena
 * (engine 3) and DuckDB read ZSTD Parquet as they read GZIP, and Parquet names the codec per column chunk,
 * so an hour file whose kept row groups are GZIP and new ones ZSTD is one valid file.
 *
 * Reading a ZSTD page where zlib has no ZSTD (a laptop on Node 20 merging into hour files a Lambda wrote)
 * falls back to fzstd, a decoder in plain JavaScript: slower than zlib, but a merge decompresses only the
 * row groups it changes.
 */
import * as zlib from 'node:zlib';
import { decompress as decompressInJavaScript } from 'fzstd';
import { CodecUnavailableError } from './errors.js';

/** The codecs the lake writes, by their names in the Parquet footer (`CompressionCodec`). */
export const CODECS = { GZIP: 'GZIP', ZSTD: 'ZSTD' } as const;
export type Codec = (typeof CODECS)[keyof typeof CODECS];

/** ZSTD's level for the lake's pages (see the module's comment for the measurement). */
export const ZSTD_LEVEL = 2;

/** zlib's ZSTD functions, which @types/node 20 does not declare: present from Node 22.15 and 23.8. */
interface ZlibWithZstd {
  zstdCompressSync?: (input: Uint8Array, options: { params: Record<number, number> }) => Buffer;
  zstdDecompressSync?: (input: Uint8Array) => Buffer;
  constants: { ZSTD_c_compressionLevel?: number };
}
const zstd = zlib as unknown as ZlibWithZstd;

/** Whether this runtime's zlib compresses ZSTD. */
export const NATIVE_ZSTD =
  typeof zstd.zstdCompressSync === 'function' && zstd.constants.ZSTD_c_compressionLevel !== undefined;

/** The codec files are written with unless a caller asks for another: ZSTD where it is native, else GZIP. */
export const DEFAULT_CODEC: Codec = NATIVE_ZSTD ? CODECS.ZSTD : CODECS.GZIP;

// Views, not copies: a Buffer is a Uint8Array over a pooled or own ArrayBuffer, read only up to its length.
const view = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/**
 * The page compressor for `codec`. Throws {@link CodecUnavailableError} for ZSTD on a runtime whose zlib
 * has none, rather than writing a file some other way than asked.
 */
export function compressorFor(codec: Codec): (input: Uint8Array) => Uint8Array {
  if (codec === CODECS.GZIP) return (input) => view(zlib.gzipSync(input));
  if (codec === CODECS.ZSTD && NATIVE_ZSTD) {
    const options = { params: { [zstd.constants.ZSTD_c_compressionLevel!]: ZSTD_LEVEL } };
    return (input) => view(zstd.zstdCompressSync!(input, options));
  }
  throw new CodecUnavailableError(codec, process.version);
}

/**
 * A ZSTD frame decompressed; `size`, the page's uncompressed size from its header, lets the JavaScript
 * decoder write into a buffer of the right length at once. `native` false forces the JavaScript decoder
 * (the tests hold the two to the same bytes).
 */
export function decompressZstd(input: Uint8Array, size?: number, native = NATIVE_ZSTD): Uint8Array {
  if (native && zstd.zstdDecompressSync) return view(zstd.zstdDecompressSync(input));
  return decompressInJavaScript(input, size === undefined ? undefined : new Uint8Array(size));
}

/** Decompressors by codec name, as hyparquet takes them: every codec the lake has written. */
export const DECOMPRESSORS = {
  GZIP: (input: Uint8Array) => view(zlib.gunzipSync(input)),
  ZSTD: (input: Uint8Array, size: number) => decompressZstd(input, size),
} as const;
