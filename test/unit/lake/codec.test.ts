import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressorFor, DEFAULT_CODEC, decompressZstd } from '../../../lib/lake/codec.js';
import { CodecUnavailableError } from '../../../lib/lake/errors.js';
import { decodeParquet, encodeParquet, openParquet, type ParquetFile } from '../../../lib/lake/parquet.js';
import type { SegmentRow } from '../../../lib/lake/schema.js';
import { simulatorTables } from '../../helpers/lake-rows.js';
import { groupBytes } from '../../helpers/parquet.js';
import { tempDir } from '../../helpers/temp.js';
import { storedZstd } from '../../helpers/zstd.js';

// Asked of zlib itself, not of the module under test.
const zlibHasZstd =
  typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

/** Every column chunk's codec, group by group. */
const codecsOf = (file: ParquetFile) =>
  file.metadata.row_groups.map((group) => [...new Set(group.columns.map((c) => c.meta_data!.codec))]);

describe("the lake's page codec", () => {
  let dir: string;
  let db: Awaited<ReturnType<DuckDBInstance['connect']>>;
  beforeAll(async () => {
    dir = await tempDir('lake-codec-');
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(() => db?.closeSync());

  /** Trace ids and segment counts as DuckDB reads them from a file. */
  async function duckDbRead(name: string, bytes: Uint8Array) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const reader = await db.runAndReadAll(
      `SELECT trace_id, count(*) AS n FROM read_parquet('${path}') GROUP BY 1 ORDER BY 1`,
    );
    return reader.getRowObjectsJS().map((r) => `${String(r.trace_id)}:${Number(r.n)}`);
  }
  const expected = (segments: readonly SegmentRow[]) => {
    const counts = new Map<string, number>();
    for (const s of segments) counts.set(s.trace_id, (counts.get(s.trace_id) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, n]) => `${id}:${n}`);
  };

  it('writes ZSTD where the runtime has it and GZIP where not, naming it in every column chunk', async () => {
    const { segments } = simulatorTables(20, 4);
    const file = encodeParquet('segments', segments);
    expect(DEFAULT_CODEC).toBe(zlibHasZstd ? 'ZSTD' : 'GZIP');
    expect(codecsOf(openParquet(file))).toEqual([[DEFAULT_CODEC]]);
    expect(await decodeParquet('segments', file)).toEqual(segments);
    expect(await duckDbRead('default.parquet', file)).toEqual(expected(segments));
  });

  it('writes GZIP when asked, on every runtime', async () => {
    const { segments } = simulatorTables(10, 5);
    const file = encodeParquet('segments', segments, undefined, { codec: 'GZIP' });
    expect(codecsOf(openParquet(file))).toEqual([['GZIP']]);
    expect(await decodeParquet('segments', file)).toEqual(segments);
  });

  it('compresses ZSTD with zlib where it can, and refuses naming the codec and the runtime where it cannot', () => {
    const input = new TextEncoder().encode('1-5f84c7a1-0123456789abcdef01234567 '.repeat(500));
    if (zlibHasZstd) {
      const compressed = compressorFor('ZSTD')(input);
      expect(compressed.length).toBeLessThan(input.length / 10);
      expect(decompressZstd(compressed, input.length, false)).toEqual(input);
    } else {
      expect(() => compressorFor('ZSTD')).toThrow(CodecUnavailableError);
      expect(() => compressorFor('ZSTD')).toThrow(`ZSTD pages on Node ${process.version}`);
    }
  });

  it('decodes ZSTD frames libzstd wrote, in JavaScript as zlib would', async () => {
    // DuckDB's own libzstd writes the frames: a CSV compressed, against the same CSV plain.
    const plain = join(dir, 'rows.csv');
    await db.run(
      `COPY (SELECT i, 'segment-' || (i % 97) AS name, random() AS r FROM range(40000) t(i)) TO '${plain}' (FORMAT csv)`,
    );
    await db.run(
      `COPY (SELECT * FROM read_csv('${plain}')) TO '${plain}.zst' (FORMAT csv, COMPRESSION zstd)`,
    );
    const text = await readFile(plain);
    const frames = new Uint8Array(await readFile(`${plain}.zst`));
    expect(frames.length).toBeLessThan(text.length / 2);
    expect(Buffer.from(decompressZstd(frames, undefined, false)).equals(text)).toBe(true);
    expect(Buffer.from(decompressZstd(frames, text.length, false)).equals(text)).toBe(true);
    expect(Buffer.from(decompressZstd(storedZstd(text))).equals(text)).toBe(true);
  });

  it('reads an hour file a ZSTD writer made and merges GZIP groups after its kept ones (Node 20 after Lambda)', async () => {
    const { traces, segments } = simulatorTables(30, 6);
    const half = Math.floor(traces.length / 2);
    const firstIds = new Set(traces.slice(0, half).map((t) => t.trace_id));
    const first = segments.filter((s) => firstIds.has(s.trace_id));
    const second = segments.filter((s) => !firstIds.has(s.trace_id));
    // As a writer with ZSTD would: stored blocks, so any runtime can make the file.
    const written = encodeParquet('segments', first, undefined, { codec: 'ZSTD', compress: storedZstd });
    expect(codecsOf(openParquet(written))).toEqual([['ZSTD']]);
    expect(await decodeParquet('segments', written)).toEqual(first);
    const merged = encodeParquet(
      'segments',
      second,
      { file: openParquet(written), groups: [0] },
      { codec: 'GZIP' },
    );
    expect(codecsOf(openParquet(merged))).toEqual([['ZSTD'], ['GZIP']]);
    expect(groupBytes(merged, 0).equals(groupBytes(written, 0))).toBe(true);
    expect(await decodeParquet('segments', merged)).toEqual([...first, ...second]);
    expect(await duckDbRead('mixed.parquet', merged)).toEqual(expected(segments));
  });
});
