/**
 * Which Parquet writer the lake uses, by measurement (issue: exporter). Prints figures; asserts nothing.
 *
 *   node bin/run-ts.mjs bench/parquet-writers.ts [--traces 20000]
 *
 * The same rows (simulated traces → schema.ts rows) are written by each candidate to the `segments` and
 * `traces` tables; every file is read back by DuckDB to prove it is usable. Also printed: the lake's bytes
 * per trace against the raw BatchGetTraces JSON and against gzip'd JSON lines.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as parquetWasm from 'parquet-wasm';
import { compressorFor, DEFAULT_CODEC } from '../lib/lake/codec.js';
import { encodeParquet, encodeParquetReference } from '../lib/lake/parquet.js';
import { COLUMNS, type ColumnSpec, traceToRows, type TraceRows } from '../lib/lake/schema.js';
import { TrafficGenerator } from '../lib/local/simulator/generate.js';
import { DEFAULT_SCENARIO } from '../lib/local/simulator/scenario.js';
import { assembleTrace } from '../lib/xray/assemble.js';
import { summarizeTrace } from '../lib/xray/summary.js';

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const TRACES = arg('traces', 20_000);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function sample(): { rows: TraceRows[]; rawJson: string; jsonLines: string } {
  const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], 11);
  const rows: TraceRows[] = [];
  const rawTraces: unknown[] = [];
  for (let minute = 29_000_000; rows.length < TRACES; minute++) {
    for (const trace of generator.minute(minute)) {
      const assembled = assembleTrace(trace.id, trace.documents);
      const documents = [...assembled.segments, ...assembled.inferred];
      // What BatchGetTraces returns for the trace, and what the public X-Ray → Athena sample stores.
      rawTraces.push({
        Id: trace.id,
        Duration: 0,
        LimitExceeded: false,
        Segments: documents.map((d) => ({ Id: d.id, Document: JSON.stringify(d) })),
      });
      rows.push(traceToRows(assembled, summarizeTrace(assembled, 1), { exportedAt: Date.now() }));
    }
  }
  const jsonLines = rawTraces
    .flatMap((t) => (t as { Segments: { Document: string }[] }).Segments.map((s) => s.Document))
    .join('\n');
  return { rows, rawJson: JSON.stringify({ Traces: rawTraces }), jsonLines };
}

function arrowType(column: ColumnSpec): arrow.DataType {
  switch (column.type) {
    case 'string':
      return new arrow.Utf8();
    case 'timestamp':
      return new arrow.TimestampMillisecond('UTC');
    case 'double':
      return new arrow.Float64();
    case 'int32':
      return new arrow.Int32();
    case 'int64':
      return new arrow.Int64();
    case 'boolean':
      return new arrow.Bool();
    case 'list<string>':
      return new arrow.List(new arrow.Field('element', new arrow.Utf8(), false));
    case 'map<string,string>':
      return new arrow.Map_(
        new arrow.Field(
          'entries',
          new arrow.Struct([
            new arrow.Field('key', new arrow.Utf8(), false),
            new arrow.Field('value', new arrow.Utf8(), true),
          ]) as never,
          false,
        ),
      );
  }
}

function writeWasm(table: 'traces' | 'segments', rows: Record<string, unknown>[]): Uint8Array {
  const columns = COLUMNS[table] as readonly ColumnSpec[];
  const vectors: Record<string, arrow.Vector> = {};
  for (const column of columns) {
    const values = rows.map((row) => {
      const v = row[column.name];
      if (column.type === 'int64') return BigInt(v as number);
      if (column.type === 'map<string,string>') return new Map(Object.entries(v as Record<string, string>));
      return v;
    });
    vectors[column.name] = arrow.vectorFromArray(values, arrowType(column));
  }
  const ipc = arrow.tableToIPC(new arrow.Table(vectors), 'stream');
  const props = new parquetWasm.WriterPropertiesBuilder()
    .setCompression(parquetWasm.Compression.ZSTD)
    .build();
  return parquetWasm.writeParquet(parquetWasm.Table.fromIPCStream(ipc), props);
}

/** The row of hyparquet-writer with the lake's codec (the runtime's: lib/lake/codec.ts). */
const REFERENCE = `hyparquet-writer (${DEFAULT_CODEC}, delta ids)`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'parquet-writers-'));
  const { rows, rawJson, jsonLines } = sample();
  const traces = rows.map((r) => r.trace);
  const segments = rows.flatMap((r) => r.segments);
  console.error(`${fmt(traces.length)} traces, ${fmt(segments.length)} segment rows`);
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const results: Record<string, string>[] = [];
  const sizes = new Map<string, number>();

  const measure = async (
    name: string,
    write: (
      table: 'traces' | 'segments',
      rows: Record<string, unknown>[],
    ) => Promise<Uint8Array> | Uint8Array,
  ) => {
    // One warm-up on a slice, so JIT and WebAssembly compilation are not billed to the measurement.
    await write('segments', segments.slice(0, 2000) as never);
    const started = performance.now();
    const tracesFile = await write('traces', traces as never);
    const segmentsFile = await write('segments', segments as never);
    const seconds = (performance.now() - started) / 1000;
    const paths = ['traces', 'segments'].map((t) => join(dir, `${name.replace(/\W+/g, '-')}-${t}.parquet`));
    writeFileSync(paths[0]!, tracesFile);
    writeFileSync(paths[1]!, segmentsFile);
    const check = await db.runAndReadAll(
      `SELECT (SELECT count(*) FROM read_parquet('${paths[0]}')) AS t, (SELECT count(*) FROM read_parquet('${paths[1]}')) AS s,
              (SELECT typeof(start_time) || ' ' || typeof(services) || ' ' || typeof(annotations) FROM read_parquet('${paths[0]}') LIMIT 1) AS types`,
    );
    const [row] = check.getRowObjectsJson() as { t: string; s: string; types: string }[];
    const bytes = tracesFile.byteLength + segmentsFile.byteLength;
    sizes.set(name, bytes);
    results.push({
      writer: name,
      'traces/s': fmt(traces.length / seconds),
      'bytes/trace': fmt(bytes / traces.length),
      'DuckDB reads': `${row!.t} + ${row!.s} rows; ${row!.types}`,
    });
  };

  // The lake's own writer writes hyparquet-writer's bytes (lib/lake/writer.ts), so the sizes are one figure.
  await measure("the lake's writer (hyparquet-writer's bytes)", (t, r) => encodeParquet(t, r as never));
  await measure(REFERENCE, (t, r) => encodeParquetReference(t, r));
  await measure('parquet-wasm + apache-arrow (zstd)', (t, r) => writeWasm(t, r));
  await measure('DuckDB COPY from JSON lines (zstd)', async (t, r) => {
    const input = join(dir, `duck-${t}.json`);
    const output = join(dir, `duck-${t}.parquet`);
    writeFileSync(input, r.map((row) => JSON.stringify(row)).join('\n'));
    const columns = (COLUMNS[t] as readonly ColumnSpec[])
      .map(
        (c) =>
          `'${c.name}': '${{ string: 'VARCHAR', timestamp: 'BIGINT', double: 'DOUBLE', int32: 'INTEGER', int64: 'BIGINT', boolean: 'BOOLEAN', 'list<string>': 'VARCHAR[]', 'map<string,string>': 'MAP(VARCHAR, VARCHAR)' }[c.type]}'`,
      )
      .join(', ');
    const select = (COLUMNS[t] as readonly ColumnSpec[])
      .map((c) =>
        c.type === 'timestamp' ? `make_timestamp(${c.name} * 1000)::TIMESTAMPTZ AS ${c.name}` : c.name,
      )
      .join(', ');
    await db.run(
      `COPY (SELECT ${select} FROM read_json('${input}', columns = {${columns}}, format = 'newline_delimited')) TO '${output}' (FORMAT parquet, COMPRESSION zstd)`,
    );
    return readFileSync(output);
  });

  const rawBytes = Buffer.byteLength(rawJson);
  const gzipBytes = gzipSync(jsonLines).byteLength;
  const lakeBytes = sizes.get(REFERENCE)!;
  results.push({
    writer: 'raw BatchGetTraces JSON',
    'traces/s': '',
    'bytes/trace': fmt(rawBytes / traces.length),
    'DuckDB reads': '',
  });
  results.push({
    writer: 'gzip JSON lines (one segment document a line)',
    'traces/s': '',
    'bytes/trace': fmt(gzipBytes / traces.length),
    'DuckDB reads': '',
  });
  console.table(results);
  console.log(
    `lake (hyparquet-writer) / raw JSON = 1/${(rawBytes / lakeBytes).toFixed(1)}; lake / gzip JSON lines = 1/${(gzipBytes / lakeBytes).toFixed(2)}`,
  );
  const contract = idsAsRowReferences(rows);
  console.log(
    `the ½ gzip JSON lines target (${fmt(gzipBytes / 2 / traces.length)} bytes/trace) against the segments table's ids: ` +
      `as DESIGN.md has them ${fmt(lakeBytes / traces.length)}; parent_id and segment_id as row references within ` +
      `the trace (a contract change) ${fmt(contract.references / traces.length)}; those and no duration column ` +
      `(end_time − start_time instead, losing sub-millisecond precision: a second change) ` +
      `${fmt(contract.referencesNoDuration / traces.length)}; no segment ids at all ` +
      `${fmt(contract.none / traces.length)} bytes/trace`,
  );
  const double = durationColumnBytes(rows, 'double');
  const micros = durationColumnBytes(rows, 'micros');
  console.log(
    `duration columns (both tables, ${DEFAULT_CODEC}): as DOUBLE seconds ${fmt(double / traces.length)}, as INT64 microseconds ` +
      `delta-packed ${fmt(micros / traces.length)} bytes/trace; row references with integer durations ` +
      `${fmt((contract.references - double + micros) / traces.length)} bytes/trace (column chunks are independent, ` +
      `so the one column's difference carries over)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What the lake would weigh under other segments tables (bench/README.md, the size target): parent_id
 * and segment_id as the row's index within its trace instead of X-Ray ids (written as short strings, so
 * the encoder and its encodings are the same); that and no `duration` column in either table (users would
 * take end_time − start_time, to the millisecond); and no segment ids at all (a floor: `id` is what users
 * join on, so no schema can drop it).
 */
function idsAsRowReferences(rows: readonly TraceRows[]): {
  references: number;
  referencesNoDuration: number;
  none: number;
} {
  const encode = (segments: unknown[], traces: unknown[] = rows.map((r) => r.trace)) =>
    encodeParquet('traces', traces as never).byteLength +
    encodeParquet('segments', segments as never).byteLength;
  const references = rows.flatMap((r) => {
    const index = new Map(r.segments.map((s, i) => [s.id, String(i)]));
    return r.segments.map((s) => ({
      ...s,
      parent_id: s.parent_id === null ? null : (index.get(s.parent_id) ?? s.parent_id),
      segment_id: index.get(s.segment_id) ?? s.segment_id,
    }));
  });
  const none = rows.flatMap((r) =>
    r.segments.map((s) => ({ ...s, id: '0', parent_id: null, segment_id: '0' })),
  );
  // A column of one repeated value weighs next to nothing: the floor of dropping it from the schema.
  const noDuration = references.map((s) => ({ ...s, duration: s.duration === null ? null : 0 }));
  const tracesNoDuration = rows.map((r) => ({ ...r.trace, duration: 0 }));
  return {
    references: encode(references),
    referencesNoDuration: encode(noDuration, tracesNoDuration),
    none: encode(none),
  };
}

/**
 * The bytes of the `duration` columns of both tables alone (a one-column file's, less an empty one's), as the
 * lake writes them (DOUBLE seconds) or as whole microseconds in a delta-packed INT64: the cost of keeping
 * X-Ray's precision under a contract that drops DOUBLE durations.
 */
function durationColumnBytes(rows: readonly TraceRows[], as: 'double' | 'micros'): number {
  const size = (values: readonly (number | null)[]) => {
    const micros = as === 'micros';
    const file = (data: unknown[], type: string) =>
      parquetWriteBuffer({
        columnData: [
          { name: 'duration', data, offsetIndex: false, ...(micros && { encoding: 'DELTA_BINARY_PACKED' }) },
        ],
        schema: [
          { name: 'root', num_children: 1 },
          { name: 'duration', type, repetition_type: 'OPTIONAL' },
        ],
        codec: DEFAULT_CODEC,
        compressors: { [DEFAULT_CODEC]: compressorFor(DEFAULT_CODEC) },
      } as never).byteLength;
    const data = micros ? values.map((v) => (v === null ? null : BigInt(Math.round(v * 1e6)))) : [...values];
    return file(data, micros ? 'INT64' : 'DOUBLE') - file([], micros ? 'INT64' : 'DOUBLE');
  };
  return (
    size(rows.map((r) => r.trace.duration)) + size(rows.flatMap((r) => r.segments.map((s) => s.duration)))
  );
}

await main();
