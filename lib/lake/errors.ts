/** A Parquet file whose framing (magic bytes, footer length, row-group layout) is not what the lake writes. */
export class ParquetLayoutError extends Error {
  override readonly name = 'ParquetLayoutError';

  constructor(
    message: string,
    /** The file's size in bytes. */
    readonly bytes: number,
  ) {
    super(`${message} (a ${bytes}-byte file)`);
  }
}
