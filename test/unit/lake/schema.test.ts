import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { ByteWriter } from 'hyparquet-writer';
import { serializeTCompactProtocol } from 'hyparquet-writer/src/thrift.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetLayoutError } from '../../../lib/lake/errors.js';
import {
  asciiBytes,
  decodeParquet,
  decodeParquetColumns,
  decodeRowGroups,
  encodeParquet,
  openParquet,
  rowGroupsMovable,
} from '../../../lib/lake/parquet.js';
import {
  partitionOf,
  SEGMENT_COLUMNS,
  TRACE_COLUMNS,
  traceToRows,
  type TraceRows,
} from '../../../lib/lake/schema.js';
import { TrafficGenerator } from '../../../lib/local/simulator/generate.js';
import { Random } from '../../../lib/local/simulator/random.js';
import { DEFAULT_SCENARIO } from '../../../lib/local/simulator/scenario.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { groupBytes } from '../../helpers/parquet.js';
import { segment, subsegment, traceId, twoServiceTrace } from '../../helpers/segments.js';

function rowsOf(id: string, documents: SegmentDocument[], revision = 1): TraceRows {
  const assembled = assembleTrace(id, documents);
  return traceToRows(assembled, summarizeTrace(assembled, revision), { exportedAt: 1_800_000_000_000 });
}

/** Randomized traces: the simulator's documents with values perturbed into odd corners. */
function randomTraces(seed: number, count: number): TraceRows[] {
  const random = new Random(seed);
  const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], seed);
  const out: TraceRows[] = [];
  for (let minute = 29_000_000; out.length < count; minute++) {
    for (const trace of generator.minute(minute)) {
      for (const document of trace.documents) {
        if (random.chance(0.2))
          document.annotations = {
            'näme ü': 'välue "quoted"',
            empty: '',
            [`k${random.hex(8)}`]: random.next(),
          };
        if (random.chance(0.1)) document.metadata = { nested: { list: [1, 'two', null], emoji: '🚀' } };
        if (random.chance(0.05)) {
          document.in_progress = true;
          delete document.end_time;
        }
      }
      out.push(rowsOf(trace.id, trace.documents, 1 + Math.floor(random.next() * 1e9)));
    }
  }
  return out.slice(0, count);
}

describe('lake schema', () => {
  it('flattens a trace into one trace row and a row per segment, subsegment and inferred segment', () => {
    const trace = twoServiceTrace({ fault: true, annotations: { tenant: 'acme' } });
    const { trace: row, segments } = rowsOf(trace.id, trace.documents);
    expect(row).toMatchObject({
      trace_id: trace.id,
      has_fault: true,
      http_status: 502,
      entry_service: 'api',
      entry_service_type: 'AWS::ECS::Container',
      services: ['DynamoDB', 'api', 'payments'],
      annotations: { tenant: 'acme' },
      fault_root_cause_service: 'DynamoDB',
      segment_count: 5,
    });
    expect(segments.map((s) => [s.kind, s.service, s.name, s.depth])).toEqual([
      ['segment', 'api', 'api', 0],
      ['subsegment', 'api', 'payments', 1],
      ['segment', 'payments', 'payments', 0],
      ['subsegment', 'payments', 'DynamoDB', 1],
      ['inferred', 'DynamoDB', 'DynamoDB', 0],
    ]);
    const dynamoCall = segments[3]!;
    expect(dynamoCall).toMatchObject({
      aws_operation: 'GetItem',
      aws_resource: 'orders',
      namespace: 'aws',
      segment_id: segments[2]!.id,
      parent_id: segments[2]!.id,
    });
    expect(segments[2]!.parent_id).toBe(segments[1]!.id);
  });

  it('keeps times in milliseconds and durations in seconds', () => {
    const start = 1_763_600_000.1234;
    const id = traceId(start);
    const { trace, segments } = rowsOf(id, [
      segment({
        trace_id: id,
        start_time: start,
        end_time: start + 0.25,
        subsegments: [subsegment({ start_time: start + 0.01, end_time: start + 0.02 })],
      }),
    ]);
    expect(trace.start_time).toBe(1_763_600_000_123);
    expect(trace.duration).toBe(0.25);
    expect(segments[1]!.duration).toBeCloseTo(0.01, 9);
  });

  it('partitions by the start time in UTC', () => {
    expect(partitionOf(Date.UTC(2026, 10, 20, 23, 59, 59, 999))).toEqual({
      dt: '2026-11-20',
      hour: '23',
      path: 'dt=2026-11-20/hour=23',
    });
    expect(partitionOf(Date.UTC(2026, 10, 21, 0, 0, 0))).toMatchObject({ path: 'dt=2026-11-21/hour=00' });
  });

  it('gives each time its own hour when asked for hours in turn (the last hour is remembered)', () => {
    const times = [
      Date.UTC(2026, 10, 21, 0, 30),
      Date.UTC(2026, 10, 21, 0, 59, 59, 999),
      Date.UTC(2026, 10, 21, 1, 0),
      Date.UTC(2026, 10, 21, 0, 0),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(1970, 0, 1, 0, 0),
    ];
    for (const time of [...times, ...times.reverse()]) {
      const iso = new Date(time).toISOString();
      expect(partitionOf(time).path).toBe(`dt=${iso.slice(0, 10)}/hour=${iso.slice(11, 13)}`);
    }
    expect(() => partitionOf(Number.NaN)).toThrow(RangeError);
  });

  it('applies the redaction hook to every row before it is written', () => {
    const trace = twoServiceTrace();
    const rows = traceToRows(
      assembleTrace(trace.id, trace.documents),
      summarizeTrace(assembleTrace(trace.id, trace.documents)),
      {
        exportedAt: 0,
        redact: {
          trace: (r) => ({ ...r, http_url: null, users: [] }),
          segment: (r) => ({ ...r, http_url: r.http_url && '[redacted]' }),
        },
      },
    );
    expect(rows.trace.http_url).toBeNull();
    expect(rows.segments.filter((s) => s.http_url !== null).every((s) => s.http_url === '[redacted]')).toBe(
      true,
    );
  });
});

describe('lake Parquet files', () => {
  let dir: string;
  let db: Awaited<ReturnType<DuckDBInstance['connect']>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lake-schema-'));
    db = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(async () => {
    db?.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  /** Reads a file through DuckDB, as the query engine will, back into lake rows. */
  async function throughDuckDb(
    name: string,
    bytes: Uint8Array,
    columns: readonly { name: string; type: string }[],
  ) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const select = columns
      .map((c) =>
        c.type === 'timestamp'
          ? `epoch_ms(${c.name}) AS ${c.name}`
          : c.type === 'map<string,string>'
            ? `map_entries(${c.name}) AS ${c.name}`
            : c.name,
      )
      .join(', ');
    const reader = await db.runAndReadAll(`SELECT ${select} FROM read_parquet('${path}')`);
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const c of columns) {
        const v = row[c.name];
        if (c.type === 'map<string,string>')
          out[c.name] = Object.fromEntries(
            (v as { key: string; value: string }[]).map((e) => [e.key, e.value]),
          );
        else if (typeof v === 'bigint') out[c.name] = Number(v);
        else out[c.name] = v;
      }
      return out;
    });
  }

  it('round-trips randomized traces exactly, through our reader and through DuckDB', async () => {
    const rows = randomTraces(5, 300);
    const traces = rows.map((r) => r.trace);
    const segments = rows.flatMap((r) => r.segments);
    const tracesFile = encodeParquet('traces', traces);
    const segmentsFile = encodeParquet('segments', segments);
    expect(await decodeParquet('traces', tracesFile)).toEqual(traces);
    expect(await decodeParquet('segments', segmentsFile)).toEqual(segments);
    expect(await throughDuckDb('traces.parquet', tracesFile, TRACE_COLUMNS)).toEqual(traces);
    expect(await throughDuckDb('segments.parquet', segmentsFile, SEGMENT_COLUMNS)).toEqual(segments);
  });

  it('writes id columns that are not ASCII as UTF-8 too (the fast byte path falls back)', async () => {
    const rows = randomTraces(11, 20);
    const segments = rows.flatMap((r) => r.segments);
    // parent_id is only checked to be a string, so a document can carry any text there.
    segments[3] = { ...segments[3]!, parent_id: 'père-Ωμέγα-🚀' };
    const file = encodeParquet('segments', segments);
    expect(await decodeParquet('segments', file)).toEqual(segments);
    expect(await throughDuckDb('utf8-ids.parquet', file, SEGMENT_COLUMNS)).toEqual(segments);
  });

  it('turns ASCII strings into the bytes TextEncoder gives, keeping nulls, and declines anything else', () => {
    const values = ['1-5f84c7a1-sample', null, '', '0123456789abcdef'];
    const bytes = asciiBytes(values)!;
    expect(bytes.map((b) => (b === null ? null : new TextDecoder().decode(b)))).toEqual(values);
    expect(bytes[0]).toEqual(new TextEncoder().encode(values[0]!));
    expect(asciiBytes(['abc', 'é'])).toBeUndefined();
    expect(asciiBytes(['abc', 7])).toBeUndefined();
    expect(asciiBytes([])).toEqual([]);
  });

  it('reads back only the columns asked for, the same values as a whole read (randomized)', async () => {
    const traces = randomTraces(9, 200).map((r) => r.trace);
    const file = encodeParquet('traces', traces);
    expect(await decodeParquetColumns('traces', file, ['trace_id', 'revision'])).toEqual(
      traces.map((t) => ({ trace_id: t.trace_id, revision: t.revision })),
    );
    expect(await decodeParquetColumns('traces', encodeParquet('traces', []), ['trace_id'])).toEqual([]);
  });

  it('keeps row groups of an earlier file byte for byte and appends new rows after them', async () => {
    const rows = randomTraces(11, 240).map((r) => r.trace);
    const [a, b, c] = [rows.slice(0, 100), rows.slice(100, 180), rows.slice(180)];
    const first = encodeParquet('traces', a);
    const second = encodeParquet('traces', b, { file: openParquet(first), groups: [0] });
    const third = encodeParquet('traces', c, { file: openParquet(second), groups: [0, 1] });
    expect(openParquet(third).groupRows).toEqual([100, 80, 60]);
    expect(groupBytes(third, 0).equals(groupBytes(first, 0))).toBe(true);
    expect(groupBytes(third, 1).equals(groupBytes(second, 1))).toBe(true);
    expect(await decodeParquet('traces', third)).toEqual(rows);
    expect(await decodeRowGroups('traces', openParquet(third), [2, 0])).toEqual([...c, ...a]);
    // DuckDB reads the moved groups, and their moved statistics still select the right rows.
    expect(await throughDuckDb('appended.parquet', third, TRACE_COLUMNS)).toEqual(rows);
    const cut = [...rows].sort((x, y) => x.start_time - y.start_time)[120]!.start_time;
    const reader = await db.runAndReadAll(
      `SELECT count(*) AS n FROM read_parquet('${join(dir, 'appended.parquet')}') WHERE start_time >= '${new Date(cut).toISOString()}'::TIMESTAMPTZ`,
    );
    expect(Number(reader.getRowObjectsJS()[0]!.n)).toBe(rows.filter((r) => r.start_time >= cut).length);
  });

  it('writes a file back unchanged when every group is kept and nothing is added', () => {
    const segments = randomTraces(12, 150).flatMap((r) => r.segments);
    const once = encodeParquet('segments', segments.slice(0, 900));
    const twice = encodeParquet('segments', segments.slice(900), { file: openParquet(once), groups: [0] });
    const again = encodeParquet('segments', [], { file: openParquet(twice), groups: [0, 1] });
    expect(Buffer.from(again).equals(Buffer.from(twice))).toBe(true);
  });

  it('drops the groups not kept', async () => {
    const traces = randomTraces(13, 60).map((r) => r.trace);
    const two = encodeParquet('traces', traces.slice(30), {
      file: openParquet(encodeParquet('traces', traces.slice(0, 30))),
      groups: [0],
    });
    const onlySecond = encodeParquet('traces', [], { file: openParquet(two), groups: [1] });
    expect(await decodeParquet('traces', onlySecond)).toEqual(traces.slice(30));
    expect(await throughDuckDb('second.parquet', onlySecond, TRACE_COLUMNS)).toEqual(traces.slice(30));
  });

  it('tells a file whose row groups are not their column chunks back to back, so a merge re-encodes it', () => {
    const bytes = encodeParquet(
      'traces',
      randomTraces(14, 20).map((r) => r.trace),
    );
    const file = openParquet(bytes);
    expect(rowGroupsMovable(file)).toBe(true);
    // The same file with a gap claimed after its first column chunk, as another writer's layout might have.
    const footer = structuredClone(file.footer);
    footer.field_4[0].field_1[0].field_3.field_7 -= 1n;
    const writer = new ByteWriter();
    serializeTCompactProtocol(writer, footer);
    const length = writer.offset;
    writer.appendUint32(length);
    writer.appendUint32(0x31524150);
    const footerStart =
      bytes.byteLength -
      8 -
      new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.byteLength - 8, true);
    const gapped = new Uint8Array([...bytes.subarray(0, footerStart), ...new Uint8Array(writer.getBuffer())]);
    expect(rowGroupsMovable(openParquet(gapped))).toBe(false);
  });

  it('keeps min/max statistics on the columns queries prune by, and none on random ids', async () => {
    const segments = randomTraces(15, 40).flatMap((r) => r.segments);
    const path = join(dir, 'statistics.parquet');
    await writeFile(path, encodeParquet('segments', segments));
    const reader = await db.runAndReadAll(
      `SELECT path_in_schema AS col, coalesce(stats_min_value, stats_min) IS NOT NULL AS has_min FROM parquet_metadata('${path}')`,
    );
    const has = Object.fromEntries(reader.getRowObjectsJS().map((r) => [String(r.col), r.has_min]));
    for (const column of ['trace_id', 'start_time', 'end_time', 'duration', 'service', 'name'])
      expect(has[column], column).toBe(true);
    for (const column of ['id', 'parent_id', 'segment_id', 'metadata'])
      expect(has[column], column).toBe(false);
    // trace_id is written from bytes (asciiBytes); its bounds (truncated to 16 bytes, the upper one
    // rounded up, as the writer does for strings) still enclose every id, so pruning stays correct.
    const bounds = await db.runAndReadAll(
      `SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata('${path}') WHERE path_in_schema = 'trace_id'`,
    );
    const { lo, hi } = bounds.getRowObjectsJS()[0] as { lo: string; hi: string };
    const ids = segments.map((s) => s.trace_id).sort();
    expect(ids[0]!.startsWith(lo)).toBe(true);
    expect(hi > ids.at(-1)! && hi.length === 16).toBe(true);
  });

  it('refuses bytes that are not a Parquet file, naming their size', () => {
    expect(() => openParquet(new TextEncoder().encode('{"not":"parquet"} padding'))).toThrow(
      ParquetLayoutError,
    );
    expect(() => openParquet(new Uint8Array(3))).toThrow('a 3-byte file');
  });

  it('writes an empty table as a valid file with the schema', async () => {
    const file = encodeParquet('segments', []);
    expect(await decodeParquet('segments', file)).toEqual([]);
    const path = join(dir, 'empty.parquet');
    await writeFile(path, file);
    const reader = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    expect(reader.getRowObjectsJS().map((r) => r.column_name)).toEqual(SEGMENT_COLUMNS.map((c) => c.name));
  });
});
