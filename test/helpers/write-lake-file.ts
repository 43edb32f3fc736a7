/**
 * Run by the Node 22 test under another Node (`node bin/run-ts.mjs test/helpers/write-lake-file.ts OUT SEED`):
 * writes `simulatorTables(20, SEED)`'s segments table with this runtime's default codec to OUT, then prints
 * what it used as JSON, so the parent process can read the file back on its own runtime.
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_CODEC, NATIVE_ZSTD } from '../../lib/lake/codec.js';
import { encodeParquet } from '../../lib/lake/parquet.js';
import { simulatorTables } from './lake-rows.js';

const [out, seed] = process.argv.slice(2);
if (!out || !seed) throw new Error('usage: write-lake-file.ts OUT SEED');
const { segments } = simulatorTables(20, Number(seed));
writeFileSync(out, encodeParquet('segments', segments));
console.log(JSON.stringify({ node: process.version, codec: DEFAULT_CODEC, nativeZstd: NATIVE_ZSTD }));
