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

/**
 * A {@link Redactor} returned a row the lake cannot hold: a required column emptied or given the wrong type,
 * or the trace id changed (rows are merged and partitioned by it). Raised before anything is written.
 */
export class RedactionError extends Error {
  override readonly name = 'RedactionError';

  constructor(
    readonly table: 'traces' | 'segments',
    readonly column: string,
    readonly traceId: string,
    problem: string,
  ) {
    super(
      `the redactor returned a ${table} row of trace ${traceId} that the lake cannot hold: ${column} ${problem}`,
    );
  }
}
