/**
 * The lake's own Parquet writer: the column types of the two tables (flat UTF8, INT32, INT64, DOUBLE,
 * BOOLEAN and TIMESTAMP(MILLIS) columns, a LIST<string> and a MAP<string,string>), written as
 * hyparquet-writer 0.17 writes them, **byte for byte**, but without its general path's costs.
 *
 * Why not just call hyparquet-writer: encoding the `segments` table was 44% of the exporter's own path
 * (bench/README.md, seventh session), and most of it was generality the lake does not need: min/max by
 * string comparison over every value of a dictionary column (the dictionary holds the same values, a
 * hundredth as many), a `Uint8Array` per id value and per string, a BigInt per timestamp (and a BigInt
 * range check of each), the Dremel walk for flat columns' levels, a slice per page of every array, and a
 * byte-at-a-time buffer. This module keeps every decision the library makes (when to use a dictionary,
 * dictionary order, page boundaries, encodings, statistics, page headers and footer, which it still
 * writes through the library's own functions), so its files are the library's files: the tests compare
 * the two writers' bytes on simulator, randomized and edge-case tables, and hyparquet-writer stays the
 * reference (`encodeParquetReference` in parquet.ts). An upgrade of the library that changes any of those
 * decisions fails those tests, which is the point: the lockfile pins 0.17, and the two move together.
 *
 * What it does not do, because the lake never asks: page indexes, bloom filters, other codecs than the
 * one given, FLOAT, DECIMAL, FIXED_LEN_BYTE_ARRAY, structs, nesting other than the two above.
 */
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { deltaBinaryPack } from 'hyparquet-writer/src/delta.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { Codec } from './codec.js';
import { ParquetWriteError } from './errors.js';
import type { ColumnSpec } from './schema.js';

/** hyparquet-writer's default page size (`parquetWrite`'s `pageSize`): a page ends past this many bytes. */
export const PAGE_SIZE = 1_048_576;
/** Its name in every file's footer, as hyparquet-writer writes it (the files are its files). */
const CREATED_BY = 'hyparquet';
const MAGIC = 0x31524150; // "PAR1", little-endian
/** hyparquet-writer's dictionary sampling: rejects a column whose sampled distinct bytes exceed 90%. */
const SAMPLE_SIZE = 1000;
const SAMPLE_REJECTION_RATIO = 0.9;
/** DELTA_BINARY_PACKED's block layout as hyparquet-writer writes it (Parquet's encodings spec). */
const BLOCK_SIZE = 128;
const MINIBLOCKS_PER_BLOCK = 4;
const VALUES_PER_MINIBLOCK = BLOCK_SIZE / MINIBLOCKS_PER_BLOCK;
/**
 * Timestamps go through Number arithmetic when their range within a page is below this (2^44 ms, 557
 * years): every delta and adjusted delta (< 2^45) and the bit packing's buffer (< 2^53) stay exact. Wider
 * pages take the library's BigInt path.
 */
const EXACT_TIMESTAMP_RANGE = 2 ** 44;

type Json = Record<string, unknown>;

/** Null or undefined: both are a missing value to a Parquet column. */
const absent = (value: unknown): value is null | undefined => value === null || value === undefined;

/** One column of a table to write. */
export interface ColumnInput {
  spec: ColumnSpec;
  /** The column's value in each row, in row order (lists as arrays, maps as objects). */
  values: readonly unknown[];
  /** Whether min/max statistics are written (null counts come with them). */
  statistics: boolean;
  /** An encoding instead of the library's choice (dictionary where it pays, else PLAIN). */
  encoding?: 'DELTA_BYTE_ARRAY' | 'DELTA_BINARY_PACKED';
}

export interface WriteTableOptions {
  /** The file's schema elements, as hyparquet-writer takes them (parquet.ts builds them from the specs). */
  schema: readonly Json[];
  columns: readonly ColumnInput[];
  rowGroupSize: number;
  pageSize?: number;
  /** The codec's name in the footer and its compressor. */
  codec: Codec;
  compress: (bytes: Uint8Array) => Uint8Array;
  kvMetadata: readonly { key: string; value: string }[];
}

/**
 * A growing byte buffer that is also hyparquet-writer's `Writer`, so the library's page-header, level
 * and footer functions write into it; bulk appends go through one `Uint8Array` view instead of a view or
 * a `DataView` call per byte.
 */
class Output extends ByteWriter {
  bytes: Uint8Array;
  constructor(size = 1 << 16) {
    super(size);
    this.bytes = new Uint8Array(this.buffer);
  }
  override ensure(size: number): void {
    if (this.index + size > this.buffer.byteLength) {
      super.ensure(size);
      this.bytes = new Uint8Array(this.buffer);
    }
  }
  override appendUint8(value: number): void {
    this.ensure(1);
    this.bytes[this.index++] = value;
    this.offset++;
  }
  override appendBytes(value: Uint8Array): void {
    this.ensure(value.length);
    this.bytes.set(value, this.index);
    this.index += value.length;
    this.offset += value.length;
  }
  /** Bytes `from`–`to` of `source` (a range of an encoded string column). */
  appendRange(source: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.ensure(length);
    // Most ranges are an id's few changed characters: a loop beats a subarray view per value.
    if (length <= 32) {
      const bytes = this.bytes;
      let at = this.index;
      for (let i = from; i < to; i++) bytes[at++] = source[i]!;
    } else this.bytes.set(source.subarray(from, to), this.index);
    this.index += length;
    this.offset += length;
  }
  /** A zigzag varint of an integer exactly held by a Number (|value| < 2^53). */
  appendZigZagNumber(value: number): void {
    let encoded = value < 0 ? -value * 2 - 1 : value * 2;
    while (encoded >= 0x80) {
      this.appendUint8((encoded % 0x80) + 0x80);
      encoded = Math.floor(encoded / 0x80);
    }
    this.appendUint8(encoded);
  }
  written(): Uint8Array {
    return this.bytes.subarray(0, this.index);
  }
}

/** A leaf column's values and levels for one row group, as the Dremel encoding defines them. */
interface Leaf {
  path: string[];
  element: Json;
  /** Values, one per level entry; null (or undefined) where the levels say there is none. */
  values: unknown[];
  definition?: Uint8Array;
  repetition?: Uint8Array;
  maxDefinition: number;
  maxRepetition: number;
  nulls: number;
}

type ChunkOptions = Pick<ColumnInput, 'statistics' | 'encoding'> & {
  name: string;
  pageSize: number;
  codec: Codec;
  compress: (bytes: Uint8Array) => Uint8Array;
};

/**
 * Writes a table as one Parquet file, the bytes hyparquet-writer's `parquetWriteBuffer` gives for the
 * same columns and options. Throws {@link ParquetWriteError} naming the column for a value the column's
 * type cannot hold (a null in a required column, a timestamp that is not an integer).
 */
export function writeTable(options: WriteTableOptions): Uint8Array {
  const { columns, schema, rowGroupSize } = options;
  const rows = columns[0]?.values.length ?? 0;
  if (!Number.isInteger(rowGroupSize) || rowGroupSize < 1)
    throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
  for (const column of columns)
    if (column.values.length !== rows)
      throw new ParquetWriteError(
        column.spec.name,
        `${column.values.length} values where the first column has ${rows}`,
      );
  const out = new Output();
  out.appendUint32(MAGIC);
  const rowGroups: Json[] = [];
  for (let start = 0; start < rows; start += rowGroupSize) {
    const end = Math.min(start + rowGroupSize, rows);
    const groupStart = out.offset;
    const chunks: Json[] = [];
    for (const column of columns) {
      const slice =
        start === 0 && end === rows ? (column.values as unknown[]) : column.values.slice(start, end);
      for (const leaf of leavesOf(column.spec, slice, schema, start))
        chunks.push(
          writeChunk(out, leaf, {
            name: column.spec.name,
            statistics: column.statistics,
            encoding: column.encoding,
            pageSize: options.pageSize ?? PAGE_SIZE,
            codec: options.codec,
            compress: options.compress,
          }),
        );
    }
    let totalByteSize = 0n;
    for (const chunk of chunks) totalByteSize += (chunk.meta_data as Json).total_uncompressed_size as bigint;
    rowGroups.push({
      columns: chunks,
      total_byte_size: totalByteSize,
      num_rows: BigInt(end - start),
      total_compressed_size: BigInt(out.offset - groupStart),
    });
  }
  writeMetadata(out, {
    version: 2,
    created_by: CREATED_BY,
    schema: schema as never,
    num_rows: BigInt(rows),
    row_groups: rowGroups as never,
    key_value_metadata: options.kvMetadata as never,
  } as never);
  out.appendUint32(MAGIC);
  return out.written().slice();
}

/** The schema element named `name` among the root's children, and the elements below it. */
function elementsOf(schema: readonly Json[], name: string): Json[] {
  let index = 1;
  while (index < schema.length) {
    const element = schema[index]!;
    const span = subtreeSize(schema, index);
    if (element.name === name) return schema.slice(index, index + span) as Json[];
    index += span;
  }
  throw new ParquetWriteError(name, 'not in the schema');
}
function subtreeSize(schema: readonly Json[], index: number): number {
  let size = 1;
  for (let child = 0; child < ((schema[index]!.num_children as number) ?? 0); child++)
    size += subtreeSize(schema, index + size);
  return size;
}

/** `row` counts from the table's first row. */
function requiredNull(name: string, row: number): ParquetWriteError {
  return new ParquetWriteError(name, `null in row ${row} of a required column`);
}

/** A column's leaves for a row group: one for flat columns, the element of a list, a map's key and value. */
function leavesOf(spec: ColumnSpec, values: unknown[], schema: readonly Json[], firstRow: number): Leaf[] {
  const elements = elementsOf(schema, spec.name);
  const n = values.length;
  if (spec.type !== 'list<string>' && spec.type !== 'map<string,string>') {
    if (!spec.nullable) {
      for (let i = 0; i < n; i++) if (absent(values[i])) throw requiredNull(spec.name, firstRow + i);
      return [
        { path: [spec.name], element: elements[0]!, values, maxDefinition: 0, maxRepetition: 0, nulls: 0 },
      ];
    }
    const definition = new Uint8Array(n);
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      if (absent(values[i])) nulls++;
      else definition[i] = 1;
    }
    return [
      {
        path: [spec.name],
        element: elements[0]!,
        values,
        definition,
        maxDefinition: 1,
        maxRepetition: 0,
        nulls,
      },
    ];
  }
  const isMap = spec.type === 'map<string,string>';
  // Levels in typed arrays sized for a row's first entry, grown when rows hold more; entries read in place
  // (a `for...in` over a plain object, as `Object.entries` orders them) instead of an array per row: most
  // rows' maps are empty, and the arrays per row were most of this column's cost.
  const keys: unknown[] = [];
  const items: unknown[] = [];
  let keyDefinition = new Uint8Array(n + 16);
  let itemDefinition = isMap ? new Uint8Array(n + 16) : keyDefinition;
  let repetition = new Uint8Array(n + 16);
  let count = 0;
  let keyNulls = 0;
  let itemNulls = 0;
  const room = () => {
    if (count < repetition.length) return;
    const grow = (levels: Uint8Array) => {
      const grown = new Uint8Array(levels.length * 2);
      grown.set(levels);
      return grown;
    };
    keyDefinition = grow(keyDefinition);
    if (isMap) itemDefinition = grow(itemDefinition);
    repetition = grow(repetition);
  };
  const entry = (key: unknown, item: unknown, first: boolean, row: number) => {
    if (absent(key)) throw requiredNull(spec.name, firstRow + row);
    room();
    keys.push(key);
    keyDefinition[count] = 1;
    if (isMap) {
      items.push(item);
      if (absent(item)) {
        itemDefinition[count] = 1;
        itemNulls++;
      } else itemDefinition[count] = 2;
    }
    repetition[count++] = first ? 0 : 1;
  };
  for (let row = 0; row < n; row++) {
    const value = values[row];
    if (absent(value)) throw requiredNull(spec.name, firstRow + row);
    const before = count;
    if (isMap) {
      if (value instanceof Map) {
        for (const [key, item] of value as Map<unknown, unknown>) entry(key, item, count === before, row);
      } else if (typeof value === 'object' && !Array.isArray(value)) {
        for (const key in value)
          if (Object.hasOwn(value, key))
            entry(key, (value as Record<string, unknown>)[key], count === before, row);
      } else throw new ParquetWriteError(spec.name, `row ${firstRow + row} is not a map`);
    } else {
      if (!Array.isArray(value))
        throw new ParquetWriteError(spec.name, `row ${firstRow + row} is not a list`);
      for (let i = 0; i < value.length; i++) entry(value[i], undefined, i === 0, row);
    }
    if (count > before) continue;
    // An empty map or list: one entry with both levels 0.
    room();
    keys.push(undefined);
    keyDefinition[count] = 0;
    keyNulls++;
    if (isMap) {
      items.push(undefined);
      itemDefinition[count] = 0;
      itemNulls++;
    }
    repetition[count++] = 0;
  }
  const levels = repetition.subarray(0, count);
  // Schema: the column, its repeated group, then the leaf (a list's element; a map's key and value).
  const leaf = (index: number, leafValues: unknown[], definition: Uint8Array, nulls: number): Leaf => ({
    path: [spec.name, elements[1]!.name as string, elements[index]!.name as string],
    element: elements[index]!,
    values: leafValues,
    definition: definition.subarray(0, count),
    repetition: levels,
    maxDefinition: index - 1,
    maxRepetition: 1,
    nulls,
  });
  const leaves = [leaf(2, keys, keyDefinition, keyNulls)];
  if (isMap) leaves.push(leaf(3, items, itemDefinition, itemNulls));
  return leaves;
}

type Physical = 'BYTE_ARRAY' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN';

/**
 * A leaf's string values as UTF-8, all in one buffer: value `i` is bytes `starts[i]` to `ends[i]` (empty
 * for nulls), `total` bytes in all, counting repeats. A value equal to the one before shares its bytes: the
 * trace id on each of a trace's rows, a segment's id on each of its subsegments' rows, are encoded once.
 * ASCII goes through one native join and encode; otherwise each string is copied character by character
 * until its first other character, which hands the rest of it to `TextEncoder.encodeInto` (the bytes
 * `TextEncoder.encode` would write).
 */
interface Utf8Column {
  bytes: Uint8Array;
  starts: Int32Array;
  ends: Int32Array;
  total: number;
}
const textEncoder = new TextEncoder();
function utf8Of(name: string, values: readonly unknown[]): Utf8Column {
  const n = values.length;
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  // Each distinct run's string and length, read once (the strings lie wherever the rows' parse put them).
  const parts: string[] = [];
  const lengths = new Int32Array(n);
  let previous: string | undefined;
  let capacity = 0;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (typeof value !== 'string') {
      if (!absent(value)) throw new ParquetWriteError(name, `${typeof value} in a string column`);
      lengths[i] = -1;
      continue;
    }
    const length = value.length;
    if (value === previous) {
      lengths[i] = -2;
      continue;
    }
    previous = value;
    parts.push(value);
    lengths[i] = length;
    capacity += length;
  }
  let bytes = new Uint8Array(capacity + 16);
  // All ASCII: the join's bytes are in place, each value as many bytes as characters.
  const { read, written } = textEncoder.encodeInto(parts.join(''), bytes);
  const ascii = read === capacity && written === capacity;
  let at = 0;
  let start = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i]!;
    if (length === -2) {
      starts[i] = start;
      ends[i] = at;
      total += at - start;
      continue;
    }
    starts[i] = at;
    // A null (-1) between two equal values leaves the first's bytes to the second.
    if (length >= 0) {
      start = at;
      if (ascii) at += length;
      else {
        const value = values[i] as string;
        if (at + length * 3 > bytes.length) {
          const grown = new Uint8Array(Math.max(bytes.length * 2, at + length * 3));
          grown.set(bytes.subarray(0, at));
          bytes = grown;
        }
        let j = 0;
        for (; j < length; j++) {
          const code = value.charCodeAt(j);
          if (code > 0x7f) break;
          bytes[at++] = code;
        }
        if (j < length) at += textEncoder.encodeInto(value.slice(j), bytes.subarray(at)).written;
      }
    }
    ends[i] = at;
    total += at - starts[i]!;
  }
  return { bytes, starts, ends, total };
}

/**
 * Strings in UTF-8 byte order (code point order), lone surrogates as U+FFFD, as hyparquet-writer orders
 * byte-array statistics; `<` on JavaScript strings compares UTF-16 units, which misplaces characters past
 * U+FFFF.
 */
function compareStrings(left: string, right: string): number {
  if (left === right) return 0;
  const length = Math.min(left.length, right.length);
  let i = 0;
  while (i < length && left.charCodeAt(i) === right.charCodeAt(i)) i++;
  if (i > 0) {
    const previous = left.charCodeAt(i - 1);
    if (previous >= 0xd800 && previous <= 0xdbff) i--;
  }
  while (i < left.length && i < right.length) {
    const a = codePointAt(left, i);
    const b = codePointAt(right, i);
    if (a !== b) return a - b;
    i += a > 0xffff ? 2 : 1;
  }
  return left.length - right.length;
}
function codePointAt(value: string, i: number): number {
  const code = value.codePointAt(i) ?? 0xfffd;
  return code >= 0xd800 && code <= 0xdfff ? 0xfffd : code;
}

interface Statistics {
  min_value: unknown;
  max_value: unknown;
  null_count: bigint;
  nan_count: bigint | undefined;
}

/** Min/max of non-null values (strings by {@link compareStrings}); NaN skipped and counted for doubles. */
function statisticsOf(values: readonly unknown[], nulls: number, type: Physical): Statistics {
  let min: unknown;
  let max: unknown;
  let nan = 0;
  if (type === 'BOOLEAN') {
    // false < true: the order the general loop below finds, without comparing booleans as numbers.
    let falses = false;
    let trues = false;
    for (const value of values) {
      if (value === true) trues = true;
      else if (value === false) falses = true;
    }
    if (falses || trues) {
      min = !falses;
      max = trues;
    }
  } else if (type === 'BYTE_ARRAY') {
    let previous: unknown;
    for (const value of values) {
      if (absent(value) || value === previous) continue;
      previous = value;
      if (min === undefined || compareStrings(value as string, min as string) < 0) min = value;
      if (max === undefined || compareStrings(value as string, max as string) > 0) max = value;
    }
  } else {
    for (const value of values) {
      if (absent(value)) continue;
      if (typeof value === 'number' && Number.isNaN(value)) {
        nan++;
        continue;
      }
      if (min === undefined || (value as number) < (min as number)) min = value;
      if (max === undefined || (value as number) > (max as number)) max = value;
    }
  }
  // Parquet's rule for signed zeros, as the library applies it: min -0, max +0.
  if (min === 0) min = -0;
  if (max === 0) max = 0;
  return {
    min_value: min,
    max_value: max,
    null_count: BigInt(nulls),
    nan_count: type === 'DOUBLE' ? BigInt(nan) : undefined,
  };
}

/**
 * hyparquet-writer's dictionary decision (`useDictionary`), kept exactly: a sample of up to 1,000 values
 * spread over the chunk rejects columns that are nearly all distinct; otherwise the dictionary (in order
 * of first appearance) is kept when it and its bit-packed indexes take at most half the PLAIN bytes.
 * Sizes are the library's estimates (a string's length in UTF-16 units).
 */
function dictionaryOf(
  values: readonly unknown[],
  type: Physical,
  nulls: number,
): { dictionary: unknown[]; indexes: Int32Array } | undefined {
  if (type === 'BOOLEAN') return undefined;
  const prefix = type === 'BYTE_ARRAY' ? 4 : 0;
  const fixed = type === 'INT32' ? 4 : 8;
  const sizeOf = (value: unknown) =>
    absent(value) ? 0 : type === 'BYTE_ARRAY' ? (value as string).length : fixed;
  const n = values.length;
  const sampleSize = Math.min(n, SAMPLE_SIZE);
  const sampled = new Map<unknown, number>();
  let sampleDictionarySize = 0;
  let sampleTotalSize = 0;
  for (let i = 0; i < sampleSize; i++) {
    const value = values[sampleSize === 1 ? 0 : Math.floor((i * (n - 1)) / (sampleSize - 1))];
    let size = sampled.get(value);
    if (size === undefined) {
      size = sizeOf(value) + (absent(value) ? 0 : prefix);
      sampled.set(value, size);
      sampleDictionarySize += size;
    }
    sampleTotalSize += size;
  }
  if (!sampleTotalSize || sampleDictionarySize / sampleTotalSize > SAMPLE_REJECTION_RATIO) return undefined;

  const dictionary: unknown[] = [];
  const indexes = new Int32Array(n);
  const seen = new Map<unknown, number>();
  let dictionarySize = 0;
  let totalSize = 0;
  let nonNull = 0;
  // Fixed-size values' PLAIN size is known before the pass, and the kept dictionary's size only grows with
  // it: past the bound the decision below is already "no", so a column of mostly distinct numbers (the
  // durations, which the sample passes) stops building a map it would throw away.
  const fixedPlainSize = prefix === 0 ? (n - nulls) * fixed : Number.POSITIVE_INFINITY;
  let last: unknown;
  let lastIndex = -1;
  for (let i = 0; i < n; i++) {
    const value = values[i];
    if (absent(value)) continue;
    nonNull++;
    // Runs of one value (a segment's service on each of its subsegments, a kind) are often the same
    // string object: comparing it with the last is cheaper than hashing it into the map.
    let index = value === last ? lastIndex : seen.get(value);
    if (index === undefined) {
      const size = sizeOf(value);
      totalSize += size;
      dictionarySize += size;
      index = dictionary.length;
      dictionary.push(value);
      seen.set(value, index);
      const indexBits = 32 - Math.clz32(dictionary.length - 1);
      if (2 * (dictionarySize + Math.ceil(((n - nulls) * indexBits) / 8)) > fixedPlainSize) return undefined;
    } else totalSize += type === 'BYTE_ARRAY' ? (value as string).length : fixed;
    indexes[i] = index;
    last = value;
    lastIndex = index;
  }
  const bitWidth = Math.ceil(Math.log2(dictionary.length));
  const indexSize = Math.ceil((nonNull * bitWidth) / 8);
  const plainSize = totalSize + nonNull * prefix;
  const dictionaryValueSize = dictionarySize + dictionary.length * prefix;
  if (2 * (dictionaryValueSize + indexSize) > plainSize) return undefined;
  return { dictionary, indexes };
}

/** PLAIN values of a dictionary page or a data page. */
function writePlain(out: Output, values: readonly unknown[], type: Physical, name: string): void {
  switch (type) {
    case 'BYTE_ARRAY': {
      const column = utf8Of(name, values);
      for (let i = 0; i < values.length; i++) appendPlainString(out, column, i);
      return;
    }
    case 'INT32':
      for (const value of values) {
        if (!Number.isSafeInteger(value) || (value as number) < -2147483648 || (value as number) > 2147483647)
          throw new ParquetWriteError(name, `${String(value)} is not an int32`);
        out.appendInt32(value as number);
      }
      return;
    case 'INT64':
      for (const value of values) {
        if (typeof value !== 'bigint') throw new ParquetWriteError(name, `${String(value)} is not a bigint`);
        out.appendInt64(value);
      }
      return;
    case 'DOUBLE':
      for (const value of values) {
        if (typeof value !== 'number') throw new ParquetWriteError(name, `${String(value)} is not a number`);
        out.appendFloat64(value);
      }
      return;
    case 'BOOLEAN': {
      let current = 0;
      for (let i = 0; i < values.length; i++) {
        if (values[i] === true) current |= 1 << (i % 8);
        else if (values[i] !== false)
          throw new ParquetWriteError(name, `${String(values[i])} is not a boolean`);
        if (i % 8 === 7) {
          out.appendUint8(current);
          current = 0;
        }
      }
      if (values.length % 8) out.appendUint8(current);
      return;
    }
  }
}

/** Value `i` of an encoded string column, PLAIN: its byte length, then its bytes. */
function appendPlainString(out: Output, column: Utf8Column, i: number): void {
  const start = column.starts[i]!;
  const end = column.ends[i]!;
  out.appendUint32(end - start);
  out.appendRange(column.bytes, start, end);
}

/**
 * DELTA_BYTE_ARRAY of UTF-8 ranges: prefix lengths shared with the value before, suffix lengths (both
 * DELTA_BINARY_PACKED by the library), then the suffixes' bytes.
 */
function writeDeltaByteArray(out: Output, column: Utf8Column, indexes: Int32Array): void {
  const { bytes, starts, ends } = column;
  const n = indexes.length;
  const prefixes = new Int32Array(n);
  const suffixes = new Int32Array(n);
  let previousStart = 0;
  let previousEnd = 0;
  for (let k = 0; k < n; k++) {
    const start = starts[indexes[k]!]!;
    const end = ends[indexes[k]!]!;
    let prefix = 0;
    // The same bytes as the value before (a repeat, see utf8Of): all prefix, no suffix.
    if (k > 0 && start === previousStart && end === previousEnd) prefix = end - start;
    else if (k > 0) {
      const max = Math.min(previousEnd - previousStart, end - start);
      while (prefix < max && bytes[previousStart + prefix] === bytes[start + prefix]) prefix++;
    }
    prefixes[k] = prefix;
    suffixes[k] = end - start - prefix;
    previousStart = start;
    previousEnd = end;
  }
  deltaBinaryPack(out, prefixes, 'INT32');
  deltaBinaryPack(out, suffixes, 'INT32');
  for (let k = 0; k < n; k++) {
    if (suffixes[k]! > 0) {
      const start = starts[indexes[k]!]! + prefixes[k]!;
      out.appendRange(bytes, start, ends[indexes[k]!]!);
    }
  }
}

/**
 * DELTA_BINARY_PACKED of INT64 millisecond timestamps in Number arithmetic: the bytes of the library's
 * BigInt path (every block with its four miniblock widths, no constant-delta shortcut), without a
 * BigInt per value. Pages spanning 2^44 ms or more go to the library.
 */
function writeDeltaTimestamps(out: Output, values: readonly number[], name: string): void {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isSafeInteger(value))
      throw new ParquetWriteError(name, `${String(value)} is not an integer timestamp`);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (
    values.length === 0 ||
    max - min >= EXACT_TIMESTAMP_RANGE ||
    Math.abs(min) >= 2 ** 52 ||
    Math.abs(max) >= 2 ** 52
  ) {
    deltaBinaryPack(
      out,
      values.map((value) => BigInt(value)),
      'INT64',
    );
    return;
  }
  const count = values.length;
  out.appendVarInt(BLOCK_SIZE);
  out.appendVarInt(MINIBLOCKS_PER_BLOCK);
  out.appendVarInt(count);
  out.appendZigZagNumber(values[0]!);
  const deltas = new Float64Array(BLOCK_SIZE);
  const widths = new Uint8Array(MINIBLOCKS_PER_BLOCK);
  for (let index = 1; index < count; index += BLOCK_SIZE) {
    const blockSize = Math.min(BLOCK_SIZE, count - index);
    let minDelta = 0;
    for (let i = 0; i < blockSize; i++) {
      const delta = values[index + i]! - values[index + i - 1]!;
      deltas[i] = delta;
      if (i === 0 || delta < minDelta) minDelta = delta;
    }
    out.appendZigZagNumber(minDelta);
    for (let mb = 0; mb < MINIBLOCKS_PER_BLOCK; mb++) {
      const end = Math.min(mb * VALUES_PER_MINIBLOCK + VALUES_PER_MINIBLOCK, blockSize);
      let widest = 0;
      for (let i = mb * VALUES_PER_MINIBLOCK; i < end; i++) {
        const adjusted = deltas[i]! - minDelta;
        if (adjusted > widest) widest = adjusted;
      }
      widths[mb] = bitsOf(widest);
    }
    out.appendBytes(widths);
    for (let mb = 0; mb < MINIBLOCKS_PER_BLOCK; mb++) {
      const width = widths[mb]!;
      if (width === 0) continue;
      const start = mb * VALUES_PER_MINIBLOCK;
      const end = Math.min(start + VALUES_PER_MINIBLOCK, blockSize);
      let buffer = 0;
      let used = 0;
      if (width <= 24) {
        // Most miniblocks (rows a few milliseconds apart): `used` + width stays under 32 bits, so integer
        // shifts give the same bytes as the exact arithmetic below, written straight into the buffer.
        out.ensure(width * 4);
        const bytes = out.bytes;
        let at = out.index;
        for (let i = 0; i < VALUES_PER_MINIBLOCK; i++) {
          const adjusted = start + i < end ? deltas[start + i]! - minDelta : 0;
          buffer |= adjusted << used;
          used += width;
          while (used >= 8) {
            bytes[at++] = buffer & 0xff;
            buffer >>>= 8;
            used -= 8;
          }
        }
        out.offset += at - out.index;
        out.index = at;
        continue;
      }
      for (let i = 0; i < VALUES_PER_MINIBLOCK; i++) {
        const adjusted = start + i < end ? deltas[start + i]! - minDelta : 0;
        // `used` is below 8 here and `adjusted` below 2^45, so the sum stays an exact integer.
        buffer += adjusted * 2 ** used;
        used += width;
        while (used >= 8) {
          out.appendUint8(buffer % 0x100);
          buffer = Math.floor(buffer / 0x100);
          used -= 8;
        }
      }
    }
  }
}
function bitsOf(value: number): number {
  if (value === 0) return 0;
  const high = Math.floor(value / 2 ** 32);
  return high === 0 ? 32 - Math.clz32(value) : 64 - Math.clz32(high);
}

/** Where pages end, as the library splits them: past `pageSize` estimated bytes, at a row's first value. */
function pagesOf(
  count: number,
  sizeOf: (i: number) => number,
  pageSize: number,
  repetition: Uint8Array | undefined,
): [number, number][] {
  const pages: [number, number][] = [];
  let start = 0;
  let accumulated = 0;
  for (let i = 0; i < count; i++) {
    const size = sizeOf(i);
    accumulated += size;
    if (accumulated >= pageSize && i > start && (!repetition || repetition[i] === 0)) {
      pages.push([start, i]);
      start = i;
      accumulated = size;
    }
  }
  if (start < count) pages.push([start, count]);
  return pages;
}

const bitWidthOf = (max: number) => Math.ceil(Math.log2(max + 1));

/** The values at some positions (a loop: `Array.from` with a map function was a profile line of its own). */
function pick(values: readonly unknown[], positions: Int32Array): unknown[] {
  const out = new Array<unknown>(positions.length);
  for (let k = 0; k < positions.length; k++) out[k] = values[positions[k]!];
  return out;
}

/** A column chunk: dictionary page if any, data pages (v2), and its footer entry. */
function writeChunk(out: Output, leaf: Leaf, options: ChunkOptions): Json {
  const { element, values, definition, repetition, maxDefinition, maxRepetition } = leaf;
  const type = element.type as Physical;
  const isTimestamp = (element.logical_type as Json | undefined)?.type === 'TIMESTAMP';
  const chunkStart = out.offset;
  let uncompressed = 0;
  const encodings: string[] = [];
  if (isTimestamp && options.encoding !== 'DELTA_BINARY_PACKED')
    throw new ParquetWriteError(options.name, 'timestamps are written DELTA_BINARY_PACKED');

  const dictionary = options.encoding ? undefined : dictionaryOf(values, type, leaf.nulls);
  // (A string column without a dictionary has its types checked as it is encoded, below.)
  if (dictionary && type === 'BYTE_ARRAY')
    for (const value of dictionary.dictionary)
      if (typeof value !== 'string')
        throw new ParquetWriteError(options.name, `${typeof value} in a string column`);
  // Statistics of a dictionary column come from the dictionary: exactly its non-null values, once each.
  const stats = !options.statistics
    ? undefined
    : dictionary && type === 'BYTE_ARRAY'
      ? statisticsOf(dictionary.dictionary, leaf.nulls, type)
      : statisticsOf(values, leaf.nulls, type);

  let dictionaryPageOffset: bigint | undefined;
  let encoding: string;
  if (dictionary) {
    encoding = 'RLE_DICTIONARY';
    dictionaryPageOffset = BigInt(out.offset);
    const page = new Output(1024);
    writePlain(page, dictionary.dictionary, type, options.name);
    const raw = page.written();
    const compressed = options.compress(raw);
    const headerStart = out.offset;
    writePageHeader(out, {
      type: 'DICTIONARY_PAGE',
      uncompressed_page_size: raw.length,
      compressed_page_size: compressed.length,
      dictionary_page_header: { num_values: dictionary.dictionary.length, encoding: 'PLAIN' },
    } as never);
    uncompressed += out.offset - headerStart + raw.length;
    out.appendBytes(compressed);
    encodings.push('PLAIN');
  } else {
    encoding = options.encoding ?? (type === 'BOOLEAN' && values.length > 16 ? 'RLE' : 'PLAIN');
  }
  encodings.push(encoding);

  // Strings not in a dictionary are encoded once, for the page sizes and the pages.
  const utf8 = !dictionary && type === 'BYTE_ARRAY' ? utf8Of(options.name, values) : undefined;
  const fixed = dictionary ? 4 : type === 'BOOLEAN' ? 0.125 : type === 'INT32' ? 4 : 8;
  const sizeOf = utf8
    ? (i: number) => utf8.ends[i]! - utf8.starts[i]!
    : (i: number) => (absent(values[i]) ? 0 : fixed);
  // Most chunks are smaller than a page, which needs no value-by-value split.
  const estimate = utf8 ? utf8.total : (values.length - leaf.nulls) * fixed;
  const pages: [number, number][] =
    estimate < options.pageSize
      ? values.length > 0
        ? [[0, values.length]]
        : []
      : pagesOf(values.length, sizeOf, options.pageSize, repetition);

  const dataPageOffset = BigInt(out.offset);
  for (const [start, end] of pages) {
    const levels = new Output(256);
    let repetitionLength = 0;
    let definitionLength = 0;
    let rows = end - start;
    if (maxRepetition) {
      const slice = repetition!.subarray(start, end);
      rows = 0;
      for (const level of slice) if (level === 0) rows++;
      repetitionLength = writeRleBitPackedHybrid(levels, slice, bitWidthOf(maxRepetition));
    }
    let nulls = 0;
    if (maxDefinition) {
      const slice = definition!.subarray(start, end);
      for (const level of slice) if (level < maxDefinition) nulls++;
      definitionLength = writeRleBitPackedHybrid(levels, slice, bitWidthOf(maxDefinition));
    }
    // Positions of the page's non-null values.
    const present = new Int32Array(end - start - nulls);
    if (nulls === 0) for (let i = start; i < end; i++) present[i - start] = i;
    else for (let i = start, k = 0; i < end; i++) if (definition![i] === maxDefinition) present[k++] = i;

    const page = new Output(1 << 14);
    if (dictionary) {
      const indexes = new Int32Array(present.length);
      let max = 0;
      for (let k = 0; k < present.length; k++) {
        const index = dictionary.indexes[present[k]!]!;
        indexes[k] = index;
        if (index > max) max = index;
      }
      const width = bitWidthOf(max);
      page.appendUint8(width);
      writeRleBitPackedHybrid(page, indexes, width);
    } else if (encoding === 'DELTA_BYTE_ARRAY') {
      writeDeltaByteArray(page, utf8!, present);
    } else if (encoding === 'DELTA_BINARY_PACKED') {
      if (!isTimestamp)
        throw new ParquetWriteError(options.name, 'DELTA_BINARY_PACKED is for timestamps here');
      writeDeltaTimestamps(page, pick(values, present) as number[], options.name);
    } else if (encoding === 'RLE') {
      const run = new Output(256);
      // As 0s and 1s in a typed array: the same runs and bits as the booleans themselves (the library
      // compares values with === and packs `value & 1`), without an array of them or a conversion per bit.
      const bits = new Uint8Array(present.length);
      for (let k = 0; k < present.length; k++) {
        const value = values[present[k]!];
        if (value === true) bits[k] = 1;
        else if (value !== false)
          throw new ParquetWriteError(options.name, `${String(value)} is not a boolean`);
      }
      writeRleBitPackedHybrid(run, bits, 1);
      page.appendUint32(run.offset);
      page.appendBytes(run.written());
    } else if (utf8) {
      for (const i of present) appendPlainString(page, utf8, i);
    } else {
      writePlain(page, pick(values, present), type, options.name);
    }

    const raw = page.written();
    const compressed = options.compress(raw);
    const headerStart = out.offset;
    writePageHeader(out, {
      type: 'DATA_PAGE_V2',
      uncompressed_page_size: levels.offset + raw.length,
      compressed_page_size: levels.offset + compressed.length,
      data_page_header_v2: {
        num_values: end - start,
        num_nulls: nulls,
        num_rows: rows,
        encoding,
        definition_levels_byte_length: definitionLength,
        repetition_levels_byte_length: repetitionLength,
        is_compressed: true,
      },
    } as never);
    uncompressed += out.offset - headerStart + levels.offset + raw.length;
    out.appendBytes(levels.written());
    out.appendBytes(compressed);
  }

  const encodingStats = stats
    ? [
        ...(dictionary ? [{ page_type: 'DICTIONARY_PAGE', encoding: 'PLAIN', count: 1 }] : []),
        { page_type: 'DATA_PAGE_V2', encoding, count: pages.length },
      ]
    : undefined;
  return {
    meta_data: {
      type,
      encodings,
      path_in_schema: leaf.path,
      codec: options.codec,
      num_values: BigInt(values.length),
      total_compressed_size: BigInt(out.offset - chunkStart),
      total_uncompressed_size: BigInt(uncompressed),
      data_page_offset: dataPageOffset,
      dictionary_page_offset: dictionaryPageOffset,
      statistics: stats,
      encoding_stats: encodingStats,
      geospatial_statistics: undefined,
    },
    file_offset: BigInt(chunkStart),
  };
}
