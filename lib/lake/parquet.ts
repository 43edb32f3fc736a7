/**
 * Parquet encoding of the lake's tables with standard logical types that both Athena (Trino's reader) and
 * DuckDB read: TIMESTAMP(MILLIS, UTC) as INT64, UTF8 strings, three-level LIST<string>, MAP<string,string>,
 * dictionary and delta encodings, min/max statistics on the columns they can prune by, ZSTD or GZIP
 * (lib/lake/codec.ts: ZSTD where the runtime has it); and merges
 * that keep an existing file's row groups byte for byte ({@link encodeParquet}'s `keep`).
 *
 * The format is hyparquet-writer's (pure JavaScript), chosen by measurement (bench/README.md, "Parquet
 * writer"): with gzip and delta encodings its files are within 6% of the zstd files DuckDB and parquet-wasm
 * write, it encodes faster than parquet-wasm + Arrow, and it adds no native or WebAssembly binary to the
 * Lambda bundle (DuckDB cannot ship in a 5 MB function). The files are written by the lake's own writer
 * (lib/lake/writer.ts), which gives the library's bytes for these two tables 2–3× faster; the library's
 * general path stays as {@link encodeParquetReference}, what the tests hold it to.
 */
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadata,
  parquetMetadataAsync,
  parquetReadObjects,
} from 'hyparquet';
// The raw Thrift codec of the footer, so row groups kept by a merge are written back exactly as they were
// (hyparquet's parsed metadata drops fields, e.g. a double column's nan_count). Both modules are the
// libraries' own, reached through their published `./src/*.js` exports; the lockfile pins the versions and
// test/unit/lake/schema.test.ts proves the round trip byte for byte.
import { deserializeTCompactProtocol } from 'hyparquet/src/thrift.js';
import { ByteWriter, parquetWriteBuffer } from 'hyparquet-writer';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { type Codec, compressorFor, DECOMPRESSORS, DEFAULT_CODEC } from './codec.js';
import { ParquetLayoutError } from './errors.js';
import { type ColumnSpec, COLUMNS, type SegmentRow, type TableName, type TraceRow } from './schema.js';
import { PAGE_SIZE, writeTable } from './writer.js';
import type { ObjectStore } from '../store/object-store.js';

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

/**
 * Row-group and page sizes. The defaults are the lake's ({@link ROW_GROUP_SIZE}, hyparquet-writer's 1 MiB
 * pages); tests shrink them to put every boundary in a few rows.
 */
export interface Layout {
  rowGroupSize?: number;
  pageSize?: number;
  /** The pages' codec: {@link DEFAULT_CODEC} (ZSTD where the runtime has it, else GZIP) unless given. */
  codec?: Codec;
  /**
   * The codec's compressor, where it is not zlib's: the tests write ZSTD files on Node 20 with it, as
   * frames of stored blocks (test/helpers/zstd.ts).
   */
  compress?: (bytes: Uint8Array) => Uint8Array;
  /** Key-value pairs for the footer besides the table's and the schema version's. */
  metadata?: readonly { key: string; value: string }[];
}

/**
 * Encodes rows of a table as one Parquet file. An empty table is a valid file with no row groups.
 *
 * With `keep`, the file begins with those row groups of an existing file of the same table, copied byte for
 * byte (their footer entries moved to their new offsets), and the rows follow as new row groups: a merge
 * that adds traces to an hour file re-encodes only what changed, not the whole hour (see
 * {@link openParquet}). Files are written without page indexes, so a row group is its column chunks alone.
 *
 * The bytes are hyparquet-writer's for the same rows ({@link encodeParquetReference}); the lake's own writer
 * (lib/lake/writer.ts) only makes them 2–3× faster.
 */
export function encodeParquet<T extends TableName>(
  table: T,
  rows: readonly RowOf<T>[],
  keep?: { file: ParquetFile; groups: readonly number[] },
  layout: Layout = {},
): Uint8Array {
  const fresh = encodeRows(table, rows, layout);
  if (!keep || keep.groups.length === 0) return fresh;
  return appendRowGroups(keep.file, keep.groups, openParquet(fresh));
}

/**
 * Columns whose min/max statistics would prune nothing: random 64-bit ids (every row group's range spans
 * nearly all of them), free text, and nested columns (neither Trino nor DuckDB prunes on a map's or a
 * list's statistics). Statistics were 6% of the exporter's profile (string comparisons, value by value);
 * dropping these nine halved that.
 */
const NO_STATISTICS = new Set([
  'id',
  'parent_id',
  'segment_id',
  'http_url',
  'cause_message',
  'metadata',
  'annotations',
  'users',
  'services',
]);

type Extractor = (rows: readonly unknown[]) => unknown[][];

/**
 * Rows to columns in one pass, by a function written out for the table's columns: reading
 * `row[column.name]` with the name changing column to column is a megamorphic property load per cell, which
 * was 6% of the exporter's time. The names are the schema's own constants.
 */
function extractor(columns: readonly ColumnSpec[]): Extractor {
  const body = [
    'const n = rows.length;',
    ...columns.map((_, c) => `const c${c} = new Array(n);`),
    'for (let i = 0; i < n; i++) {',
    '  const row = rows[i];',
    '  let v;',
    ...columns.map((column, c) =>
      // Plain INT64 columns take bigint; timestamps convert numbers themselves.
      column.type === 'int64'
        ? `  v = row[${JSON.stringify(column.name)}]; c${c}[i] = v == null ? null : BigInt(v);`
        : `  v = row[${JSON.stringify(column.name)}]; c${c}[i] = v === undefined ? null : v;`,
    ),
    '}',
    `return [${columns.map((_, c) => `c${c}`).join(', ')}];`,
  ].join('\n');
  return new Function('rows', body) as Extractor;
}
const EXTRACTORS: Record<TableName, Extractor> = {
  traces: extractor(COLUMNS.traces),
  segments: extractor(COLUMNS.segments),
};

/**
 * A column of ASCII strings as UTF-8 byte arrays, all views of one buffer; `undefined` if any value is not
 * ASCII. The writer turns each string into bytes with its own `TextEncoder.encode` call, a native call and
 * a new buffer per value, 6% of the exporter's time for the id columns alone; ids are hex, so their characters are
 * copied as they are (with the validator change of the same commit, own path 2,664 → 2,824 traces/s,
 * bench/README.md). Nulls stay null.
 */
export function asciiBytes(values: readonly unknown[]): (Uint8Array | null)[] | undefined {
  let total = 0;
  for (const value of values) {
    if (typeof value === 'string') total += value.length;
    else if (value !== null) return undefined;
  }
  const buffer = new Uint8Array(total);
  const out = new Array<Uint8Array | null>(values.length);
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string | null;
    if (value === null) {
      out[i] = null;
      continue;
    }
    const start = at;
    for (let j = 0; j < value.length; j++) {
      const code = value.charCodeAt(j);
      if (code > 0x7f) return undefined;
      buffer[at++] = code;
    }
    out[i] = buffer.subarray(start, at);
  }
  return out;
}

const KV_METADATA = (table: TableName, layout: Layout) => [
  { key: 'xray-lake.table', value: table },
  { key: 'xray-lake.schema', value: SCHEMA_VERSION },
  ...(layout.metadata ?? []),
];

function encodeRows(table: TableName, rows: readonly unknown[], layout: Layout): Uint8Array {
  const codec = layout.codec ?? DEFAULT_CODEC;
  const columns = COLUMNS[table] as readonly ColumnSpec[];
  const data = EXTRACTORS[table](rows);
  return writeTable({
    schema: SCHEMAS[table],
    columns: columns.map((spec, c) => ({
      spec,
      values: data[c]!,
      statistics: !NO_STATISTICS.has(spec.name),
      encoding: encodingOf(spec),
    })),
    codec,
    compress: layout.compress ?? compressorFor(codec),
    rowGroupSize: layout.rowGroupSize ?? ROW_GROUP_SIZE,
    pageSize: layout.pageSize ?? PAGE_SIZE,
    kvMetadata: KV_METADATA(table, layout),
  });
}

/**
 * The same file through hyparquet-writer's general path, which {@link encodeParquet} matches byte for byte
 * (lib/lake/writer.ts): the reference the tests compare against, and the benchmark's baseline.
 */
export function encodeParquetReference(
  table: TableName,
  rows: readonly unknown[],
  layout: Layout = {},
): Uint8Array {
  const codec = layout.codec ?? DEFAULT_CODEC;
  const columns = COLUMNS[table] as readonly ColumnSpec[];
  const data = EXTRACTORS[table](rows);
  const columnData = columns.map((column, c) => {
    const encoding = encodingOf(column);
    return {
      name: column.name,
      // The id columns as bytes, as the lake's files were written before its own writer (same bytes).
      data: (encoding === 'DELTA_BYTE_ARRAY' && asciiBytes(data[c]!)) || data[c]!,
      // No offset index: nothing here reads it (neither DuckDB nor Trino use one without a column index),
      // and without it a row group is one contiguous byte range that a merge can copy.
      offsetIndex: false,
      ...(NO_STATISTICS.has(column.name) && { statistics: false }),
      ...(encoding && { encoding }),
    };
  });
  const buffer = parquetWriteBuffer({
    columnData,
    schema: SCHEMAS[table] as never,
    codec,
    compressors: { [codec]: layout.compress ?? compressorFor(codec) } as never,
    rowGroupSize: layout.rowGroupSize ?? ROW_GROUP_SIZE,
    pageSize: layout.pageSize ?? PAGE_SIZE,
    kvMetadata: KV_METADATA(table, layout),
  });
  return new Uint8Array(buffer);
}

/** Decodes a file written by {@link encodeParquet} back to rows equal to the ones written. */
export async function decodeParquet<T extends TableName>(
  table: T,
  bytes: Uint8Array | ParquetFile,
): Promise<RowOf<T>[]> {
  return (await decodeColumns(table, parquetFileOf(bytes))) as RowOf<T>[];
}

/**
 * Only some columns of a file written by {@link encodeParquet}: the other column chunks are not even
 * decompressed, so reading a traces file's ids and revisions costs a sixth of reading all of it.
 */
export async function decodeParquetColumns<T extends TableName, K extends keyof RowOf<T> & string>(
  table: T,
  bytes: Uint8Array | ParquetFile,
  names: readonly K[],
): Promise<Pick<RowOf<T>, K>[]> {
  return (await decodeColumns(table, parquetFileOf(bytes), names)) as Pick<RowOf<T>, K>[];
}

/** The rows of some row groups of a file, in the order asked; consecutive groups are read in one pass. */
export async function decodeRowGroups<T extends TableName>(
  table: T,
  file: ParquetFile,
  groups: readonly number[],
): Promise<RowOf<T>[]> {
  const rows: RowOf<T>[] = [];
  for (let i = 0; i < groups.length;) {
    let last = i;
    while (last + 1 < groups.length && groups[last + 1] === groups[last]! + 1) last++;
    const rowStart = file.groupStarts[groups[i]!];
    const lastStart = file.groupStarts[groups[last]!];
    if (rowStart === undefined || lastStart === undefined)
      throw new RangeError(`row groups ${groups.join(', ')} of ${file.groupRows.length}`);
    const range = { rowStart, rowEnd: lastStart + file.groupRows[groups[last]!]! };
    rows.push(...((await decodeColumns(table, file, undefined, range)) as RowOf<T>[]));
    i = last + 1;
  }
  return rows;
}

async function decodeColumns(
  table: TableName,
  file: { buffer: ArrayBuffer | AsyncBuffer; metadata: FileMetaData },
  names?: readonly string[],
  range?: { rowStart: number; rowEnd: number },
): Promise<unknown[]> {
  const raw = (await parquetReadObjects({
    file: file.buffer,
    metadata: file.metadata,
    ...(names && { columns: [...names] }),
    ...range,
    utf8: true,
    compressors: DECOMPRESSORS,
  })) as Record<string, unknown>[];
  const columns = (COLUMNS[table] as readonly ColumnSpec[]).filter((c) => !names || names.includes(c.name));
  return raw.map((record) => {
    const row: Record<string, unknown> = {};
    for (const column of columns) row[column.name] = fromParquet(column, record[column.name]);
    return row;
  });
}

/**
 * A file is first read by its last this many bytes, where the store reads ranges: a smaller file is then
 * whole in one request, as a plain read would have it, and a larger one's footer is in hand, so only the
 * chunks of the columns asked for are read after (a segments file's ids are 2.9% of it, measured over
 * bench/verify.ts's 7-day lake).
 */
export const RANGED_READ_MIN_BYTES = 1 << 20;

/**
 * Some columns of a lake file in `store`, with its footer (for its key-value metadata) and the bytes read.
 * By ranges when the store has them and the file is {@link RANGED_READ_MIN_BYTES} or more, else whole.
 * Undefined for a missing file; what is not a Parquet file throws.
 */
export async function readParquetColumns<T extends TableName, K extends keyof RowOf<T> & string>(
  store: ObjectStore,
  key: string,
  table: T,
  names: readonly K[],
  /** See {@link RANGED_READ_MIN_BYTES}. */
  tailBytes = RANGED_READ_MIN_BYTES,
): Promise<{ rows: Pick<RowOf<T>, K>[]; metadata: FileMetaData; bytesRead: number } | undefined> {
  const whole = async (body?: Uint8Array) => {
    const bytes = body ?? (await store.get(key))?.body;
    if (!bytes) return undefined;
    const file = openParquet(bytes);
    const rows = await decodeParquetColumns(table, file, names);
    return { rows, metadata: file.metadata, bytesRead: bytes.byteLength };
  };
  if (!store.getRange) return whole();
  const tail = await store.getRange(key, { suffix: tailBytes });
  if (!tail) return undefined;
  if (tail.body.byteLength === tail.size) return whole(tail.body);
  const tailStart = tail.size - tail.body.byteLength;
  let bytesRead = tail.body.byteLength;
  const buffer: AsyncBuffer = {
    byteLength: tail.size,
    slice: async (start, end = tail.size) => {
      if (start >= tailStart) return copyOf(tail.body.subarray(start - tailStart, end - tailStart));
      const part = await store.getRange!(key, { start, end });
      if (!part || part.size !== tail.size) throw new Error(`${key} changed while being read`);
      bytesRead += part.body.byteLength;
      return copyOf(part.body);
    },
  };
  const metadata = await parquetMetadataAsync(buffer, { initialFetchSize: tail.body.byteLength });
  const rows = (await decodeColumns(table, { buffer, metadata }, names)) as Pick<RowOf<T>, K>[];
  return { rows, metadata, bytesRead };
}

/** The bytes of a view as an ArrayBuffer of their own. */
function copyOf(view: Uint8Array): ArrayBuffer {
  return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
}

// ---------------------------------------------------------------------------------------------------------
// Row groups kept as they are

/** A Thrift struct as the compact-protocol codec reads and writes it: `field_<id>` keys. */
type Thrift = { [key: `field_${number}`]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const MAGIC = 0x31524150; // "PAR1", little-endian

/** A Parquet file opened for a merge: its bytes, its footer (raw and parsed) and its row groups' rows. */
export interface ParquetFile {
  readonly bytes: Uint8Array;
  /** The same bytes as the ArrayBuffer hyparquet reads (a copy when `bytes` is a view). */
  readonly buffer: ArrayBuffer;
  /** The FileMetaData struct exactly as stored (Thrift field ids), for writing kept row groups back. */
  readonly footer: Thrift;
  /** The footer as hyparquet parses it, for reading rows (parsed on first use: a merge's fresh files never are). */
  readonly metadata: FileMetaData;
  /** Rows in each row group, in file order, and the index of each group's first row. */
  readonly groupRows: readonly number[];
  readonly groupStarts: readonly number[];
  readonly rows: number;
}

/** Opens a Parquet file's footer. Throws {@link ParquetLayoutError} when the bytes are not a Parquet file. */
export function openParquet(bytes: Uint8Array): ParquetFile {
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  const view = new DataView(buffer);
  const size = buffer.byteLength;
  if (size < 12 || view.getUint32(0, true) !== MAGIC || view.getUint32(size - 4, true) !== MAGIC)
    throw new ParquetLayoutError('not a Parquet file: no PAR1 magic at both ends', size);
  const length = view.getUint32(size - 8, true);
  if (length > size - 12) throw new ParquetLayoutError(`footer length ${length} exceeds the file`, size);
  const footer = deserializeTCompactProtocol({
    view: new DataView(buffer, size - 8 - length, length),
    offset: 0,
  });
  const groups = (footer.field_4 ?? []) as Thrift[];
  const groupRows = groups.map((group) => Number(group.field_3));
  const groupStarts: number[] = [];
  let rows = 0;
  for (const n of groupRows) {
    groupStarts.push(rows);
    rows += n;
  }
  let metadata: FileMetaData | undefined;
  return {
    bytes: new Uint8Array(buffer),
    buffer,
    footer,
    get metadata() {
      return (metadata ??= parquetMetadata(buffer));
    },
    groupRows,
    groupStarts,
    rows,
  };
}

function parquetFileOf(input: Uint8Array | ParquetFile): ParquetFile {
  return input instanceof Uint8Array ? openParquet(input) : input;
}

/**
 * Whether row groups of `a` may be kept in a file whose other groups `b` wrote: the same schema, field for
 * field (a file written before a schema change is re-encoded whole instead).
 */
export function sameSchema(a: ParquetFile, b: ParquetFile): boolean {
  const bytesOf = (file: ParquetFile) => {
    const writer = new ByteWriter();
    serializeTCompactProtocol(writer, { field_1: file.footer.field_2 });
    return new Uint8Array(writer.getBuffer());
  };
  return Buffer.from(bytesOf(a)).equals(Buffer.from(bytesOf(b)));
}

/**
 * Whether every row group of a file can be copied by {@link encodeParquet}'s `keep`: each one's column
 * chunks back to back, as hyparquet-writer lays them out (files from elsewhere may not be).
 */
export function rowGroupsMovable(file: ParquetFile): boolean {
  try {
    for (const group of (file.footer.field_4 ?? []) as Thrift[]) groupRange(file, group);
    return true;
  } catch (error) {
    if (error instanceof ParquetLayoutError) return false;
    throw error;
  }
}

/** The byte range of row group `group`: its column chunks, which the writer lays out back to back. */
function groupRange(file: ParquetFile, group: Thrift): [number, number] {
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  let sum = 0;
  for (const chunk of group.field_1 as Thrift[]) {
    const meta = chunk.field_3 as Thrift | undefined;
    if (!meta) throw new ParquetLayoutError('a column chunk without metadata', file.bytes.byteLength);
    // A dictionary page, when there is one, comes before the data pages (field 11 is its offset).
    const first = Number(meta.field_11 ?? meta.field_9);
    const size = Number(meta.field_7);
    start = Math.min(start, first);
    end = Math.max(end, first + size);
    sum += size;
  }
  if (sum !== end - start || start < 4 || end > file.bytes.byteLength)
    throw new ParquetLayoutError(
      `row group bytes [${start}, ${end}) are not its column chunks`,
      file.bytes.byteLength,
    );
  return [start, end];
}

/** A row group's footer entry moved by `delta` bytes; page-index and bloom-filter references are dropped. */
function moved(group: Thrift, delta: bigint): Thrift {
  const shift = (value: unknown) => (value === undefined ? undefined : BigInt(value as bigint) + delta);
  return {
    ...group,
    field_1: (group.field_1 as Thrift[]).map((chunk) => ({
      field_1: chunk.field_1,
      field_2: shift(chunk.field_2),
      field_3: {
        ...chunk.field_3,
        field_9: shift(chunk.field_3.field_9),
        field_10: shift(chunk.field_3.field_10),
        field_11: shift(chunk.field_3.field_11),
        field_14: undefined,
        field_15: undefined,
      },
      // (Offset and column indexes, fields 4–7, live outside the row group and are not copied.)
    })),
    field_5: shift(group.field_5),
  };
}

/** `kept` groups of `old`, then every group of `fresh`, under `fresh`'s footer. */
function appendRowGroups(old: ParquetFile, kept: readonly number[], fresh: ParquetFile): Uint8Array {
  const out = new ByteWriter();
  out.appendUint32(MAGIC);
  const groups: Thrift[] = [];
  let rows = 0n;
  const copy = (file: ParquetFile, index: number) => {
    const group = (file.footer.field_4 as Thrift[])[index]!;
    const [start, end] = groupRange(file, group);
    const delta = BigInt(out.offset - start);
    out.appendBytes(file.bytes.subarray(start, end));
    groups.push(moved(group, delta));
    rows += BigInt(group.field_3 as bigint);
  };
  for (const index of kept) copy(old, index);
  for (let index = 0; index < fresh.groupRows.length; index++) copy(fresh, index);
  const start = out.offset;
  serializeTCompactProtocol(out, { ...fresh.footer, field_3: rows, field_4: groups });
  out.appendUint32(out.offset - start);
  out.appendUint32(MAGIC);
  return new Uint8Array(out.getBuffer());
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
