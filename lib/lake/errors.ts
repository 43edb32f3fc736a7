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

/**
 * A value the lake's Parquet writer cannot put in its column: a null in a required column, a string column
 * holding a number, a timestamp that is not whole milliseconds. Rows come from the schema's converters and
 * the redaction check, so this is a bug where it is raised; it names the column.
 */
export class ParquetWriteError extends Error {
  override readonly name = 'ParquetWriteError';

  constructor(
    readonly column: string,
    problem: string,
  ) {
    super(`cannot write column ${column}: ${problem}`);
  }
}

/**
 * A lake file that a merge must read first is not one the lake can read: truncated, overwritten by another
 * tool, corrupted. The merge stops instead of writing over it, because what it holds may be recoverable and
 * may no longer be in X-Ray; the message names the object and says how to go on.
 */
export class UnreadableLakeFileError extends Error {
  override readonly name = 'UnreadableLakeFileError';

  constructor(
    /** Where the file is: the store's location and the key. */
    readonly file: string,
    cause: unknown,
  ) {
    super(
      `cannot read the lake file ${file}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Nothing was written over it. Restore it (from an earlier S3 object version, say) or move it aside, ' +
        'then export its hour again with --from/--to (X-Ray keeps traces for 30 days)',
      { cause },
    );
  }
}

/**
 * A file was to be written with a codec this runtime cannot compress: ZSTD where zlib has none (before
 * Node 22.15). Names the codec and the runtime; the lake's default codec never raises it.
 */
export class CodecUnavailableError extends Error {
  override readonly name = 'CodecUnavailableError';

  constructor(
    readonly codec: string,
    readonly runtime: string,
  ) {
    super(
      `cannot write ${codec} pages on Node ${runtime}: its zlib has no ${codec} (Node 22.15 or later has)`,
    );
  }
}
