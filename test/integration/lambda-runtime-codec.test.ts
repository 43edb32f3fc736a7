import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { decodeParquet, openParquet } from '../../lib/lake/parquet.js';
import { simulatorTables } from '../helpers/lake-rows.js';
import { LAMBDA_NODE_VERSION, node22 } from '../helpers/node22.js';
import { tempDir } from '../helpers/temp.js';

describe('lake files written on the Lambdas runtime (Node 22)', () => {
  it('are ZSTD, and this runtime and DuckDB read them back row for row', { timeout: 240_000 }, async () => {
    const dir = await tempDir('lambda-runtime-');
    const file = join(dir, 'segments.parquet');
    const printed = execFileSync(node22(), ['bin/run-ts.mjs', 'test/helpers/write-lake-file.ts', file, '8'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(printed.trim().split('\n').at(-1)!)).toEqual({
      node: `v${LAMBDA_NODE_VERSION}`,
      codec: 'ZSTD',
      nativeZstd: true,
    });
    const bytes = new Uint8Array(await readFile(file));
    const chunks = openParquet(bytes).metadata.row_groups.flatMap((g) =>
      g.columns.map((c) => c.meta_data!.codec),
    );
    expect(new Set(chunks)).toEqual(new Set(['ZSTD']));
    // The same seed gives the same rows here: what Node 22 wrote is what this runtime decodes (on Node 20
    // by fzstd, in JavaScript).
    const { segments } = simulatorTables(20, 8);
    expect(await decodeParquet('segments', bytes)).toEqual(segments);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    try {
      const reader = await db.runAndReadAll(
        `SELECT count(*) AS n, count(DISTINCT trace_id) AS traces, sum(duration) AS d FROM read_parquet('${file}')`,
      );
      const [row] = reader.getRowObjectsJS();
      expect(Number(row!.n)).toBe(segments.length);
      expect(Number(row!.traces)).toBe(new Set(segments.map((s) => s.trace_id)).size);
      expect(row!.d as number).toBeCloseTo(
        segments.reduce((sum, s) => sum + (s.duration ?? 0), 0),
        6,
      );
    } finally {
      db.closeSync();
    }
  });
});
