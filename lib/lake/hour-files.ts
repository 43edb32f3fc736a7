import { PreconditionFailedError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import { decodeParquet, decodeParquetColumns, encodeParquet } from './parquet.js';
import {
  partitionOf,
  type SegmentRow,
  TABLES,
  type TableName,
  type TraceRow,
  type TraceRows,
} from './schema.js';

/** Attempts of one hour file's read-merge-write when another writer keeps winning the race. */
export const MERGE_ATTEMPTS = 8;

/** `traces/dt=2026-11-20/hour=10/part-00000.parquet` */
export function partKey(table: TableName, partitionPath: string, shard: number): string {
  return `${TABLES[table]}/${partitionPath}/part-${String(shard).padStart(5, '0')}.parquet`;
}

/** The shard of a trace: FNV-1a of its id, so a trace always lands in the same part file. */
export function shardOf(traceId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < traceId.length; i++) {
    hash ^= traceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** What one merge did. */
export interface MergeResult {
  /** Traces written new or replacing an older revision. */
  written: number;
  /** Segment rows of the traces written. */
  segments: number;
  /** Traces offered whose revision the lake already had (or newer). */
  unchanged: number;
  filesWritten: number;
  bytesWritten: number;
  /** Conditional writes lost to another writer and redone. */
  conflicts: number;
}

/** Adds one merge's counts into a running total. */
export function addMergeResult(total: MergeResult, result: MergeResult): void {
  for (const key of Object.keys(total) as (keyof MergeResult)[]) total[key] += result[key];
}

/** The revision the lake holds for each trace of one part file (empty when the file does not exist). */
export async function readRevisions(
  store: ObjectStore,
  partitionPath: string,
  shard: number,
): Promise<Map<string, number>> {
  const object = await store.get(partKey('traces', partitionPath, shard));
  const revisions = new Map<string, number>();
  if (!object) return revisions;
  for (const row of await decodeParquetColumns('traces', object.body, ['trace_id', 'revision']))
    revisions.set(row.trace_id, row.revision);
  return revisions;
}

/**
 * Merges traces into their hour files (read, merge, conditional write). A trace replaces the rows the lake
 * has for it only when its revision is newer, so re-running any window changes nothing and late segments
 * arrive as a newer revision. Segments are written before traces: a run stopped between the two leaves
 * the traces file at the old revision, so the next run rewrites both.
 */
export async function mergeIntoHourFiles(
  store: ObjectStore,
  traces: readonly TraceRows[],
  shards = 1,
): Promise<MergeResult> {
  const groups = new Map<string, { partition: string; shard: number; traces: TraceRows[] }>();
  for (const rows of traces) {
    const partition = partitionOf(rows.trace.start_time).path;
    const shard = shardOf(rows.trace.trace_id, shards);
    const key = `${partition}#${shard}`;
    const group = groups.get(key) ?? { partition, shard, traces: [] };
    groups.set(key, group);
    group.traces.push(rows);
  }
  const total: MergeResult = {
    written: 0,
    segments: 0,
    unchanged: 0,
    filesWritten: 0,
    bytesWritten: 0,
    conflicts: 0,
  };
  for (const group of groups.values()) {
    addMergeResult(total, await mergeOne(store, group.partition, group.shard, group.traces));
  }
  return total;
}

async function mergeOne(
  store: ObjectStore,
  partition: string,
  shard: number,
  incoming: readonly TraceRows[],
): Promise<MergeResult> {
  const tracesKey = partKey('traces', partition, shard);
  const segmentsKey = partKey('segments', partition, shard);
  // The newest offered revision of each trace (a batch may carry a trace twice).
  const offered = new Map<string, TraceRows>();
  for (const rows of incoming) {
    const previous = offered.get(rows.trace.trace_id);
    if (!previous || rows.trace.revision > previous.trace.revision) offered.set(rows.trace.trace_id, rows);
  }

  let conflicts = 0;
  for (let attempt = 1; ; attempt++) {
    const [tracesObject, segmentsObject] = await Promise.all([store.get(tracesKey), store.get(segmentsKey)]);
    const existingTraces = tracesObject ? await decodeParquet('traces', tracesObject.body) : [];
    const existing = new Map(existingTraces.map((row) => [row.trace_id, row]));
    const replacing = [...offered.values()].filter((rows) => {
      const current = existing.get(rows.trace.trace_id);
      return !current || rows.trace.revision > current.revision;
    });
    if (replacing.length === 0)
      return {
        written: 0,
        segments: 0,
        unchanged: offered.size,
        filesWritten: 0,
        bytesWritten: 0,
        conflicts,
      };

    const replaced = new Set(replacing.map((rows) => rows.trace.trace_id));
    const existingSegments = segmentsObject ? await decodeParquet('segments', segmentsObject.body) : [];
    const traceRows: TraceRow[] = [
      ...existingTraces.filter((row) => !replaced.has(row.trace_id)),
      ...replacing.map((rows) => rows.trace),
    ];
    traceRows.sort(
      (a, b) =>
        a.start_time - b.start_time || (a.trace_id < b.trace_id ? -1 : a.trace_id > b.trace_id ? 1 : 0),
    );
    // Segments follow the traces' order, each trace's rows kept together in their depth-first order.
    const byTrace = new Map<string, SegmentRow[]>();
    for (const row of existingSegments) if (!replaced.has(row.trace_id)) push(byTrace, row.trace_id, row);
    for (const rows of replacing) byTrace.set(rows.trace.trace_id, rows.segments);
    const segmentRows = traceRows.flatMap((row) => byTrace.get(row.trace_id) ?? []);

    const segmentsBody = encodeParquet('segments', segmentRows);
    const tracesBody = encodeParquet('traces', traceRows);
    try {
      await store.put(segmentsKey, segmentsBody, { ifMatch: segmentsObject?.etag ?? null });
      await store.put(tracesKey, tracesBody, { ifMatch: tracesObject?.etag ?? null });
      return {
        written: replacing.length,
        segments: replacing.reduce((sum, rows) => sum + rows.segments.length, 0),
        unchanged: offered.size - replacing.length,
        filesWritten: 2,
        bytesWritten: segmentsBody.byteLength + tracesBody.byteLength,
        conflicts,
      };
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || attempt >= MERGE_ATTEMPTS) throw error;
      conflicts++;
    }
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
