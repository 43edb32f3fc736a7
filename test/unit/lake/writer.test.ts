import { describe, expect, it } from 'vitest';
import { ParquetWriteError } from '../../../lib/lake/errors.js';
import {
  decodeParquet,
  encodeParquet,
  encodeParquetReference,
  type Layout,
  openParquet,
} from '../../../lib/lake/parquet.js';
import { SEGMENT_COLUMNS, TABLES, type TableName } from '../../../lib/lake/schema.js';
import { Random } from '../../../lib/local/simulator/random.js';
import { randomRows, simulatorTables } from '../../helpers/lake-rows.js';

/** Where two files first differ, for a failure message that says more than "not equal". */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return `byte ${i}`;
  return a.length === b.length ? 'none' : `length ${a.length} against ${b.length}`;
}

function expectSameBytes(table: TableName, rows: readonly unknown[], layout: Layout = {}) {
  const ours = encodeParquet(table, rows as never, undefined, layout);
  const reference = encodeParquetReference(table, rows, layout);
  expect(firstDifference(ours, reference), `${table}, ${rows.length} rows, ${JSON.stringify(layout)}`).toBe(
    'none',
  );
  return ours;
}

/**
 * Values as any Parquet round trip gives them back: a lone surrogate becomes U+FFFD (UTF-8 cannot hold
 * it), and -0 may come back as 0 (a dictionary, keyed by SameValueZero, holds the first of the two).
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const wellFormed = (text: string) => text.replace(LONE_SURROGATE, '\ufffd');
function comparable(value: unknown): unknown {
  if (typeof value === 'string') return wellFormed(value);
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(comparable);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [wellFormed(k), comparable(v)]));
  return value;
}

describe("the lake's Parquet writer", () => {
  it("writes the simulator's traces and segments byte for byte as hyparquet-writer does", () => {
    const { traces, segments } = simulatorTables(30, 3, 29_500_000);
    expect(segments.length).toBeGreaterThan(2000);
    expectSameBytes('traces', traces);
    expectSameBytes('segments', segments);
  });

  it('matches hyparquet-writer on randomized rows across row groups and pages of every size', async () => {
    const random = new Random(17);
    for (let seed = 1; seed <= 24; seed++) {
      for (const table of Object.keys(TABLES) as TableName[]) {
        const rows = randomRows(table, seed, Math.floor(random.next() * 250));
        const layout = {
          rowGroupSize: 1 + Math.floor(random.next() * 120),
          pageSize: 1 + Math.floor(random.next() * (random.chance(0.5) ? 64 : 4000)),
        };
        const file = expectSameBytes(table, rows, layout);
        // Same bytes, and they decode to what went in, through the lake's reader.
        if (seed % 6 === 0) expect(comparable(await decodeParquet(table, file))).toEqual(comparable(rows));
      }
    }
  });

  it("matches at the lake's own sizes: a second row group and id pages past 1 MiB", () => {
    const { segments } = simulatorTables(10, 3, 29_500_000);
    const rows = Array.from({ length: 100_777 }, (_, i) => {
      const row = segments[i % segments.length]!;
      return { ...row, id: `${i.toString(16).padStart(8, '0')}${row.id.slice(8)}` };
    });
    const file = openParquet(expectSameBytes('segments', rows));
    expect(file.groupRows).toEqual([100_000, 777]);
    const traceIds = file.metadata.row_groups[0]!.columns[0]!.meta_data!;
    expect(traceIds.path_in_schema).toEqual(['trace_id']);
    expect(traceIds.encoding_stats?.find((s) => s.page_type === 'DATA_PAGE_V2')?.count).toBeGreaterThan(1);
  });

  it('matches hyparquet-writer where string values repeat, across nulls and non-ASCII characters', () => {
    // The writer encodes a value equal to the one before once (utf8Of); nulls between, empty strings,
    // and characters past ASCII must still give the reference's bytes.
    const base = randomRows('segments', 11, 12);
    const ascii = ['a1', null, 'a1', 'a1', '', '', null, '', 'b2', null, null, 'b2'];
    const other = ascii.map((value) => (value === null ? null : `${value}é`));
    for (const parents of [ascii, other]) {
      const rows = base.map((row, i) => ({
        ...row,
        trace_id: i < 6 ? '1-69000000-aaaaaaaaaaaaaaaaaaaaaaaa' : '1-69000000-bbbbbbbbbbbbbbbbbbbbbbbb',
        parent_id: parents[i],
        segment_id: i % 4 < 2 ? 'ééé' : 'sss',
      }));
      for (const pageSize of [1, 7, 4096]) expectSameBytes('segments', rows, { pageSize });
    }
  });

  it('writes an empty table as hyparquet-writer does', () => {
    expectSameBytes('traces', []);
    expectSameBytes('segments', []);
  });

  it('keeps the same bytes when timestamps span too far for Number arithmetic (the BigInt path)', () => {
    const rows = randomRows('segments', 5, 300).map((row, i) => ({
      ...row,
      start_time: i % 2 ? 2 ** 50 + i : -(2 ** 49) - i,
    }));
    expectSameBytes('segments', rows, { pageSize: 512 });
  });

  it('refuses a value its column cannot hold, naming the column', () => {
    const [row] = randomRows('segments', 8, 1);
    const attempt = (change: Record<string, unknown>) => () =>
      encodeParquet('segments', [{ ...row, ...change } as never]);
    expect(attempt({ service: null })).toThrow(ParquetWriteError);
    expect(attempt({ service: null })).toThrow(/column service: null in row 0 of a required column/);
    expect(attempt({ name: 42 })).toThrow(/column name: number in a string column/);
    expect(attempt({ metadata: 42 })).toThrow(/column metadata: number in a string column/);
    expect(attempt({ start_time: 1.5 })).toThrow(/column start_time: 1.5 is not an integer timestamp/);
    expect(attempt({ depth: 2 ** 40 })).toThrow(/column depth: 1099511627776 is not an int32/);
    expect(attempt({ fault: 'yes' })).toThrow(/column fault: yes is not a boolean/);
    expect(attempt({ annotations: ['a'] })).toThrow(/column annotations: row 0 is not a map/);
    expect(SEGMENT_COLUMNS.find((c) => c.name === 'annotations')?.nullable).toBe(false);
  });

  it('names the bad row by its place in the table, not in its row group', () => {
    const rows = randomRows('segments', 9, 7);
    const bad = rows.map((row, i) => (i === 5 ? { ...row, service: null } : row));
    expect(() =>
      encodeParquet('segments', bad as never, undefined, { rowGroupSize: 2, pageSize: 512 }),
    ).toThrow(/column service: null in row 5 of a required column/);
    const notMap = rows.map((row, i) => (i === 6 ? { ...row, annotations: 'x' } : row));
    expect(() =>
      encodeParquet('segments', notMap as never, undefined, { rowGroupSize: 4, pageSize: 512 }),
    ).toThrow(/column annotations: row 6 is not a map/);
  });

  it('refuses a row group size that is not a positive integer', () => {
    const rows = randomRows('traces', 10, 3);
    for (const rowGroupSize of [0, -1, 1.5, Number.NaN])
      expect(() =>
        encodeParquet('traces', rows as never, undefined, { rowGroupSize, pageSize: 512 }),
      ).toThrow(/rowGroupSize must be a positive integer/);
  });
});
