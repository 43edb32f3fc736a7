/**
 * Parquet encoding of the lake's tables with standard logical types that both Athena (Trino's reader) and
 * DuckDB read: TIMESTAMP(MILLIS, UTC) as INT64, UTF8 strings, three-level LIST<string>, MAP<string,string>,
 * dictionary and delta encodings, page statistics, GZIP.
 *
 * The library is hyparquet-writer (pure JavaScript), chosen by measurement (bench/README.md, "Parquet
 * writer"): with gzip and delta encodings its files are within 6% of the zstd files DuckDB and parquet-wasm
 * write, it encodes faster than parquet-wasm + Arrow, and it adds no native or WebAssembly binary to the
 * Lambda bundle (DuckDB cannot ship in a 5 MB function). GZIP rather than ZSTD because Node 20's zlib has
 * no zstd; both Athena and DuckDB read either.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type ColumnSpec, COLUMNS, type SegmentRow, type TableName, type TraceRow } from './schema.js';

type SchemaElement = Record<string, unknown>;

/** Rows of a table. */
export type RowOf<T extends TableName> = T extends 'traces' ? TraceRow : SegmentRow;

/** Rows a file's row group holds; large groups compress best, and an hour file is read whole anyway. */
export const ROW_GROUP_SIZE = 100_000;

/** Written into every file's key-value metadata, so a reader can tell which schema wrote it. */
export const SCHEMA_VERSION = '1';

function schemaOf(columns: readonly ColumnSpec[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const column of columns) {
    const repetition = column.nullable ? 'OPTIONAL' : 'REQUIRED';
    switch (column.type) {
      case 'string':
        schema.push({
          name: column.name,
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: repetition,
        });
        break;
      case 'timestamp':
        schema.push({
          name: column.name,
          type: 'INT64',
          converted_type: 'TIMESTAMP_MILLIS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
          repetition_type: repetition,
        });
        break;
      case 'double':
        schema.push({ name: column.name, type: 'DOUBLE', repetition_type: repetition });
        break;
      case 'int32':
        schema.push({ name: column.name, type: 'INT32', repetition_type: repetition });
        break;
      case 'int64':
        schema.push({ name: column.name, type: 'INT64', repetition_type: repetition });
        break;
      case 'boolean':
        schema.push({ name: column.name, type: 'BOOLEAN', repetition_type: repetition });
        break;
      case 'list<string>':
        schema.push(
          { name: column.name, converted_type: 'LIST', repetition_type: 'REQUIRED', num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        );
        break;
      case 'map<string,string>':
        schema.push(
          { name: column.name, converted_type: 'MAP', repetition_type: 'REQUIRED', num_children: 1 },
          { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
          { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
          { name: 'value', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        );
        break;
    }
  }
  return schema;
}

const SCHEMAS = { traces: schemaOf(COLUMNS.traces), segments: schemaOf(COLUMNS.segments) };

/**
 * Column encodings, chosen by measurement (bench/README.md, "Parquet writer"): ids repeat as prefixes of
 * their neighbours (a subsegment's `segment_id` and `parent_id` are the row before's), which
 * DELTA_BYTE_ARRAY turns into near-empty suffixes; timestamps rise slowly, which DELTA_BINARY_PACKED
 * stores as small deltas. Everything else keeps the writer's choice (dictionary where it pays).
 */
const DELTA_STRING_COLUMNS = new Set(['trace_id', 'id', 'parent_id', 'segment_id']);
function encodingOf(column: ColumnSpec): 'DELTA_BYTE_ARRAY' | 'DELTA_BINARY_PACKED' | undefined {
  if (DELTA_STRING_COLUMNS.has(column.name)) return 'DELTA_BYTE_ARRAY';
  if (column.type === 'timestamp') return 'DELTA_BINARY_PACKED';
  return undefined;
}

/** Encodes rows of a table as one Parquet file. An empty table is a valid file with no row groups. */
export function encodeParquet<T extends TableName>(table: T, rows: readonly RowOf<T>[]): Uint8Array {
  const columns = COLUMNS[table] as readonly ColumnSpec[];
  const columnData = columns.map((column) => {
    const values = rows.map((row) => (row as unknown as Record<string, unknown>)[column.name] ?? null);
    // Plain INT64 columns take bigint; timestamps convert numbers themselves.
    const data =
      column.type === 'int64' ? values.map((v) => (v === null ? null : BigInt(v as number))) : values;
    const encoding = encodingOf(column);
    return { name: column.name, data, ...(encoding && { encoding }) };
  });
  const buffer = parquetWriteBuffer({
    columnData,
    schema: SCHEMAS[table] as never,
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) } as never,
    rowGroupSize: ROW_GROUP_SIZE,
    kvMetadata: [
      { key: 'xray-lake.table', value: table },
      { key: 'xray-lake.schema', value: SCHEMA_VERSION },
    ],
  });
  return new Uint8Array(buffer);
}

/** Decodes a file written by {@link encodeParquet} back to rows equal to the ones written. */
export async function decodeParquet<T extends TableName>(table: T, bytes: Uint8Array): Promise<RowOf<T>[]> {
  return (await decodeColumns(table, bytes)) as RowOf<T>[];
}

/**
 * Only some columns of a file written by {@link encodeParquet}: the other column chunks are not even
 * decompressed, so reading a traces file's ids and revisions costs a sixth of reading all of it.
 */
export async function decodeParquetColumns<T extends TableName, K extends keyof RowOf<T> & string>(
  table: T,
  bytes: Uint8Array,
  names: readonly K[],
): Promise<Pick<RowOf<T>, K>[]> {
  return (await decodeColumns(table, bytes, names)) as Pick<RowOf<T>, K>[];
}

async function decodeColumns(
  table: TableName,
  bytes: Uint8Array,
  names?: readonly string[],
): Promise<unknown[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const raw = (await parquetReadObjects({
    file,
    ...(names && { columns: [...names] }),
    utf8: true,
    compressors: { GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)) },
  })) as Record<string, unknown>[];
  const columns = (COLUMNS[table] as readonly ColumnSpec[]).filter((c) => !names || names.includes(c.name));
  return raw.map((record) => {
    const row: Record<string, unknown> = {};
    for (const column of columns) row[column.name] = fromParquet(column, record[column.name]);
    return row;
  });
}

function fromParquet(column: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) {
    if (column.type === 'list<string>') return [];
    if (column.type === 'map<string,string>') return {};
    return null;
  }
  switch (column.type) {
    case 'timestamp':
      return value instanceof Date ? value.getTime() : Number(value);
    case 'int64':
      return Number(value);
    case 'map<string,string>':
      return value instanceof Map ? Object.fromEntries(value) : value;
    default:
      return value;
  }
}
