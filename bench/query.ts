/**
 * Query benchmarks (issue: Athena SQL). Prints figures; asserts nothing.
 *
 *   node bin/run-ts.mjs bench/query.ts [--days 30] [--rpm 14] [--lake DIR]
 *
 * Builds (once; reused when --lake exists) a lake of 30 days of simulated traffic, ≥ 10M segment rows,
 * written straight from the simulator through the schema module and Parquet writer. Then each view over
 * the last day (dt-pruned) and over all 30 days on DuckDB, and the bytes Athena would bill: the column
 * chunks a query reads in Parquet, against the size of the same data as JSON lines (one segment document
 * a line, the public X-Ray → Athena sample's layout), which Athena must read entirely.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { DEFAULT_SCENARIO } from '../lib/local/simulator/scenario.js';
import { DuckDbEngine } from '../lib/query/duckdb-engine.js';
import { VIEWS } from '../lib/query/views.js';
import { buildLake } from './lake-builder.js';

const arg = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
};
const DAYS = Number(arg('days', '30'));
const RPM = Number(arg('rpm', '14'));
const LAKE = arg('lake', '/tmp/xray-lake-bench-query');
const END = Date.UTC(2026, 10, 20) / 1000;
const FROM = END - DAYS * 86_400;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function build(): Promise<void> {
  if (existsSync(join(LAKE, 'json-lines-bytes.txt'))) return;
  console.error(`building ${DAYS} days at ${RPM} requests/min in ${LAKE}...`);
  // The JSON lines are counted, not written: Athena bills their whole size, and at 10M documents the file
  // would pass 4 GiB for nothing.
  let jsonBytes = 0;
  buildLake(LAKE, {
    scenario: { ...DEFAULT_SCENARIO, traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: RPM } },
    incidents: [],
    seed: 31,
    from: FROM,
    to: END,
    onDocument: (document) => {
      jsonBytes += Buffer.byteLength(JSON.stringify(document)) + 1;
    },
    onDay: (day, days) => console.error(`  day ${day}/${days}`),
  });
  writeFileSync(join(LAKE, 'json-lines-bytes.txt'), String(jsonBytes));
}

/** Every Parquet file of a table, optionally only one day's. */
function files(table: string, dt?: string): string[] {
  const root = join(LAKE, table);
  return readdirSync(root)
    .filter((d) => !dt || d === `dt=${dt}`)
    .flatMap((d) =>
      readdirSync(join(root, d)).flatMap((h) =>
        readdirSync(join(root, d, h)).map((f) => join(root, d, h, f)),
      ),
    );
}

/** Bytes of the column chunks of `columns` in `paths`: what Athena reads (and bills) for them. */
function columnBytes(paths: string[], columns: string[]): number {
  let total = 0;
  for (const path of paths) {
    const buffer = readFileSync(path);
    const metadata = parquetMetadata(
      buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer,
    );
    for (const group of metadata.row_groups)
      for (const chunk of group.columns) {
        const name = chunk.meta_data?.path_in_schema[0];
        if (name && columns.includes(name)) total += Number(chunk.meta_data!.total_compressed_size);
      }
  }
  return total;
}

/** The columns each view reads, for the bytes estimate. */
const VIEW_COLUMNS: Record<string, { table: string; columns: string[] }> = {
  service_latency: {
    table: 'segments',
    columns: ['service', 'start_time', 'duration', 'kind', 'caller_service'],
  },
  service_faults: {
    table: 'segments',
    columns: ['service', 'start_time', 'kind', 'caller_service', 'fault', 'error', 'throttle'],
  },
  service_edges: {
    table: 'segments',
    columns: ['service', 'start_time', 'duration', 'kind', 'caller_service', 'fault', 'error', 'throttle'],
  },
  trace_latency: { table: 'traces', columns: ['entry_service', 'start_time', 'response_time', 'has_fault'] },
  operation_latency: {
    table: 'segments',
    columns: ['service', 'name', 'aws_operation', 'start_time', 'duration', 'kind', 'fault'],
  },
  fault_root_causes: { table: 'traces', columns: ['fault_root_cause_service', 'start_time', 'has_fault'] },
  annotation_latency: {
    table: 'traces',
    columns: ['annotations', 'entry_service', 'start_time', 'response_time', 'has_fault'],
  },
};

async function main() {
  await build();
  const engine = await DuckDbEngine.open(LAKE);
  const { rows: count } = await engine.query('SELECT count(*) AS n FROM segments');
  const lastDay = new Date((END - 86_400) * 1000).toISOString().slice(0, 10);
  const jsonBytes = Number(readFileSync(join(LAKE, 'json-lines-bytes.txt'), 'utf8'));
  console.log(
    `lake: ${fmt(count[0]!.n as number)} segment rows over ${DAYS} days; JSON lines of the same: ${fmt(jsonBytes / 2 ** 20)} MiB`,
  );
  const results: Record<string, string>[] = [];
  for (const view of VIEWS) {
    const time = async (sql: string) => {
      await engine.query(sql); // warm: file metadata cached, as in a session
      const runs: number[] = [];
      for (let i = 0; i < 3; i++) runs.push((await engine.query(sql)).stats.seconds);
      return Math.min(...runs);
    };
    const all = await time(`SELECT count(*), sum(length(CAST(hour AS VARCHAR))) FROM ${view}`);
    const day = await time(
      `SELECT count(*), sum(length(CAST(hour AS VARCHAR))) FROM ${view} WHERE dt = '${lastDay}'`,
    );
    const dayUnpruned = await time(
      `SELECT count(*), sum(length(CAST(hour AS VARCHAR))) FROM ${view} WHERE hour >= TIMESTAMP '${lastDay} 00:00:00'`,
    );
    const { table, columns } = VIEW_COLUMNS[view]!;
    const bytes30 = columnBytes(files(table), columns);
    results.push({
      view,
      '30 days': `${all.toFixed(3)} s`,
      '1 day (dt filter: pruned)': `${day.toFixed(3)} s`,
      '1 day (hour filter: not pruned)': `${dayUnpruned.toFixed(3)} s`,
      'bytes read, 30 days': `${fmt(bytes30 / 2 ** 20)} MiB`,
      'JSON lines / Parquet': `${(jsonBytes / bytes30).toFixed(0)}×`,
    });
  }
  console.table(results);
  await engine.close();
}

await main();
