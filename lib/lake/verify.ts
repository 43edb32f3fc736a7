import { StoreError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import {
  addMergeResult,
  emptyMergeResult,
  ORPHAN_GRACE_MS,
  orphanDates,
  parsePartKey,
  partId,
  partKey,
  repairHourFile,
} from './hour-files.js';
import { type ParquetFile, readParquetColumns, type RowOf } from './parquet.js';
import { partitionOf, partitionStartMs, TABLES } from './schema.js';

/**
 * What {@link verifyLake} can find wrong, each a way the lake breaks DESIGN.md's invariants (a trace once,
 * whole, in its hour) or cannot be read.
 */
export const PROBLEM_KINDS = {
  unreadable: 'a part file that is not a Parquet file the lake can read',
  unpaired: 'a traces file without its segments file, or a segments file without its traces file',
  incomplete: 'traces whose segment rows do not add up to their segment count',
  orphans: "segment rows whose trace the traces file lacks, past the merges' grace or never dated by one",
  misplaced: 'traces whose start time is outside their hour partition',
  duplicated: 'trace ids with more than one row in the traces table (in one file or across hours)',
} as const;
export type ProblemKind = keyof typeof PROBLEM_KINDS;

/**
 * Part file pairs read while the one before them is checked: 8 reads in flight. Against a store answering
 * after 30 ms a request (a model of S3's latency, bench/verify.ts) the demo's lake took 2.7 s instead of
 * 7.6 s one pair at a time; on a local folder it made no difference.
 */
export const READ_AHEAD_PAIRS = 4;

/** Trace ids a problem lists at most; `count` has them all. */
export const LISTED_IDS = 20;

/** One problem, in one hour's part file pair (for `duplicated`, where the id was seen again). */
export interface LakeProblem {
  kind: ProblemKind;
  /** `dt=2026-11-20/hour=10` */
  partition: string;
  shard: number;
  /** Traces (or, for `unreadable` and `unpaired`, files) concerned. */
  count: number;
  /** Up to {@link LISTED_IDS} of the trace ids concerned. */
  traceIds: string[];
  detail: string;
}

export interface VerifyReport {
  /** Hour partitions and part file pairs read. */
  hours: number;
  parts: number;
  traces: number;
  segments: number;
  /** Bytes read from the store: files under 1 MiB whole, larger ones by ranges (footer and the id columns). */
  bytesRead: number;
  /**
   * Orphan segment rows within the merges' grace ({@link ORPHAN_GRACE_MS}): another writer between its two
   * puts, or a stopped run's, which its re-run or a later merge resolves. Expected now and then; not a problem.
   */
  pendingOrphanTraces: number;
  /** The hour partitions holding them (`dt=2026-11-20/hour=10`), in order. */
  pendingOrphanHours: string[];
  problems: LakeProblem[];
  /** No problem found. */
  ok: boolean;
  seconds: number;
}

/**
 * Reads a lake's hour files and checks what every merge keeps true: each trace id has one row in the traces
 * table, in the hour of its start time, with as many segment rows as its count says, and no segment row
 * without its trace. Files are read whole, but only the columns that takes are decoded (ids, counts, start
 * times); trace ids are held for the duplicate check (about 100 bytes a trace: a month at a time with
 * `from`/`to` for a very large lake). Nothing is written. A file that is not Parquet the lake can read is a
 * problem (`unreadable`); the store failing to return one throws its {@link StoreError}.
 */
export async function verifyLake(store: ObjectStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  return (await inspectLake(store, options)).report;
}

export interface VerifyOptions {
  /** Epoch seconds: only hour partitions that start in [from, to). */
  from?: number;
  to?: number;
  /** The clock orphans' dates are compared with (epoch ms). */
  now?: () => number;
  onProgress?: (done: number, total: number) => void;
  /** The first read of a file, its last bytes (see RANGED_READ_MIN_BYTES in parquet.ts). */
  tailBytes?: number;
  /** See {@link READ_AHEAD_PAIRS}. */
  readAheadPairs?: number;
}

/** A part file pair: its hour and shard. */
interface Part {
  partition: string;
  shard: number;
}

/** {@link verifyLake}'s report, and the part file pairs each duplicated trace id is in. */
async function inspectLake(
  store: ObjectStore,
  options: VerifyOptions,
): Promise<{ report: VerifyReport; copies: Map<string, Part[]> }> {
  const started = Date.now();
  const now = (options.now ?? Date.now)();
  const pairs = new Map<string, { partition: string; shard: number; traces?: string; segments?: string }>();
  for (const table of [TABLES.traces, TABLES.segments] as const)
    for await (const key of listTable(store, table, options)) {
      const part = parsePartKey(key);
      if (!part) continue;
      const hourStart = partitionStartMs(part.partition) / 1000;
      if (options.from !== undefined && hourStart + 3_600 <= options.from) continue;
      if (options.to !== undefined && hourStart >= options.to) continue;
      const pair = pairs.get(partId(part)) ?? { partition: part.partition, shard: part.shard };
      pair[table] = key;
      pairs.set(partId(part), pair);
    }

  const report: VerifyReport = {
    hours: new Set([...pairs.values()].map((p) => p.partition)).size,
    parts: pairs.size,
    traces: 0,
    segments: 0,
    bytesRead: 0,
    pendingOrphanTraces: 0,
    pendingOrphanHours: [],
    problems: [],
    ok: true,
    seconds: 0,
  };
  const problem = (
    kind: ProblemKind,
    pair: { partition: string; shard: number },
    ids: readonly string[],
    detail: string,
    count = ids.length,
  ) => report.problems.push({ ...pair, kind, count, traceIds: ids.slice(0, LISTED_IDS), detail });
  /**
   * Where each trace id was first seen, as an index into `parts`: a number a trace rather than an object.
   * Revisions are read again for the few duplicated ids that need them.
   */
  const seen = new Map<string, number>();
  const parts: Part[] = [];
  /** Every copy of the ids seen more than once. */
  const copies = new Map<string, Part[]>();
  let done = 0;
  // Reads run ahead of the checks (which stay in listing order, so `seen` is the same every run): on S3 a
  // file's reads are a round trip or more each, and one pair at a time would wait on every one of them.
  type Read<T extends 'traces' | 'segments', K extends keyof RowOf<T> & string> =
    | {
        ok: true;
        rows: Pick<RowOf<T>, K>[];
        metadata: Pick<ParquetFile, 'metadata'>['metadata'];
        bytesRead: number;
      }
    | { ok: false; error: string; storeError?: StoreError };
  const read = async <T extends 'traces' | 'segments', K extends keyof RowOf<T> & string>(
    key: string,
    table: T,
    names: readonly K[],
  ): Promise<Read<T, K>> => {
    try {
      const result = await readParquetColumns(store, key, table, names, options.tailBytes);
      if (!result) throw new Error('deleted while being verified');
      return { ok: true, ...result };
    } catch (error) {
      const detail = `${key}: ${error instanceof Error ? error.message : String(error)}`;
      // Held, not thrown, until this pair's turn: a read ahead that rejected unawaited would end the process.
      return error instanceof StoreError
        ? { ok: false, error: detail, storeError: error }
        : { ok: false, error: detail };
    }
  };
  const list = [...pairs.values()];
  const loads = new Map<number, ReturnType<typeof load>>();
  const load = (pair: (typeof list)[number]) =>
    pair.traces && pair.segments
      ? Promise.all([
          read(pair.traces, 'traces', ['trace_id', 'segment_count', 'start_time']),
          read(pair.segments, 'segments', ['trace_id']),
        ])
      : undefined;
  const readAhead = Math.max(1, options.readAheadPairs ?? READ_AHEAD_PAIRS);
  for (let index = 0; index < list.length; index++) {
    for (let ahead = index; ahead < Math.min(list.length, index + readAhead); ahead++)
      if (!loads.has(ahead)) loads.set(ahead, load(list[ahead]!));
    const pair = list[index]!;
    const loaded = await loads.get(index);
    loads.delete(index);
    const where = { partition: pair.partition, shard: pair.shard };
    const partIndex = parts.push(where) - 1;
    options.onProgress?.(done++, pairs.size);
    if (!loaded) {
      const missing = pair.traces ? 'segments' : 'traces';
      problem('unpaired', where, [], `${pair.traces ?? pair.segments} has no ${missing} file`, 1);
      continue;
    }
    const [tracesRead, segmentsRead] = loaded;
    for (const failed of loaded) {
      if (failed.ok) continue;
      // The store failing past its retries (S3 throttling, a network error, a permission) says nothing of the
      // file: reported as unreadable, a person would be told to move a good file aside, and the mending would
      // pass the hour for good. Thrown instead, the check fails and is run again.
      if (failed.storeError) throw failed.storeError;
      problem('unreadable', where, [], failed.error, 1);
    }
    if (!tracesRead.ok || !segmentsRead.ok) continue;
    report.bytesRead += tracesRead.bytesRead + segmentsRead.bytesRead;
    const traces = tracesRead.rows;
    const segments = segmentsRead.rows;
    report.traces += traces.length;
    report.segments += segments.length;

    const rows = new Map<string, number>();
    for (const { trace_id: id } of segments) rows.set(id, (rows.get(id) ?? 0) + 1);
    const incomplete: string[] = [];
    const misplaced: string[] = [];
    const duplicated: string[] = [];
    const counts = new Map<string, number>();
    for (const trace of traces) {
      const id = trace.trace_id;
      counts.set(id, trace.segment_count);
      if ((rows.get(id) ?? 0) !== trace.segment_count) incomplete.push(id);
      if (partitionOf(trace.start_time).path !== pair.partition) misplaced.push(id);
      const first = seen.get(id);
      if (first === undefined) seen.set(id, partIndex);
      else {
        duplicated.push(id);
        copies.set(id, [...(copies.get(id) ?? [parts[first]!]), where]);
      }
    }
    if (incomplete.length)
      problem('incomplete', where, incomplete, "segment rows do not add up to the traces' segment counts");
    if (misplaced.length) problem('misplaced', where, misplaced, 'start time outside the hour');
    if (duplicated.length)
      problem(
        'duplicated',
        where,
        duplicated,
        `also in ${[...new Set(duplicated.map((id) => parts[seen.get(id)!]!))]
          .map(partId)
          .slice(0, 5)
          .join(', ')}`,
      );

    const dates = orphanDates(segmentsRead);
    const stale: string[] = [];
    for (const id of rows.keys()) {
      if (counts.has(id)) continue;
      const since = dates.get(id);
      if (since !== undefined && now - since < ORPHAN_GRACE_MS) {
        report.pendingOrphanTraces++;
        if (!report.pendingOrphanHours.includes(where.partition))
          report.pendingOrphanHours.push(where.partition);
      } else stale.push(id);
    }
    if (stale.length)
      problem(
        'orphans',
        where,
        stale,
        'segment rows of traces not in the traces file (a run stopped between its writes, not run again)',
      );
  }
  options.onProgress?.(done, pairs.size);
  report.ok = report.problems.length === 0;
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return { report, copies };
}

/** What {@link repairLake} did, between the lake's report before and after. */
export interface RepairReport {
  before: VerifyReport;
  /** Part file pairs rewritten. */
  partsRewritten: number;
  /** Traces whose orphan rows were dropped (past the grace; younger ones are dated, for a later repair). */
  orphansDropped: number;
  /** Traces taken out for want of their rows: export their hours again (`reexport`) to fetch them whole. */
  tracesWithdrawn: number;
  /**
   * Copies of duplicated traces taken out: the newest revision stays (at a tie, the copy in the hour of its
   * start, then the earliest hour's).
   */
  duplicatesRemoved: number;
  /** Hours to export again (`xray-lake export --from --to`), for the traces withdrawn from them. */
  reexport: { from: string; to: string }[];
  after: VerifyReport;
}

/**
 * Repairs what a merge can (`xray-lake verify --repair`): drops orphan rows past the grace (dating younger
 * ones, which a repair after {@link ORPHAN_GRACE_MS} drops if no re-run claims them), withdraws traces
 * without their rows (X-Ray still has them for 30 days: export their hours again), and keeps one copy of a
 * duplicated trace. Unreadable files and a trace only in the wrong hour are left to a person; the report
 * after says what remains. Each rewrite is a merge's conditional write, safe beside running exports.
 */
export async function repairLake(store: ObjectStore, options: VerifyOptions = {}): Promise<RepairReport> {
  const { report: before, copies } = await inspectLake(store, options);
  const now = options.now ?? Date.now;
  const removals = new Map<string, { part: Part; ids: Map<string, number> }>();
  const remove = (part: Part, id: string) => {
    const entry = removals.get(partId(part)) ?? { part, ids: new Map<string, number>() };
    entry.ids.set(id, Number.POSITIVE_INFINITY);
    removals.set(partId(part), entry);
  };
  let duplicatesRemoved = 0;
  // Revision and start of each copy, read again from the few part files holding duplicates.
  const read = new Map<string, Promise<Map<string, { revision: number; start_time: number }>>>();
  const copyIn = async (part: Part, id: string) => {
    if (!read.has(partId(part))) read.set(partId(part), traceIndex(store, part));
    return (await read.get(partId(part))!).get(id);
  };
  for (const [id, found] of copies) {
    const all = await Promise.all(
      found.map(async (part) => {
        // Gone from the file since the scan: last in line to be kept.
        const copy = await copyIn(part, id);
        const inItsHour = copy !== undefined && partitionOf(copy.start_time).path === part.partition;
        return { ...part, revision: copy?.revision ?? -1, inItsHour };
      }),
    );
    // The newest revision; at a tie, a copy in the hour of its start, then the earliest hour.
    const keep = [...all].sort(
      (a, b) =>
        b.revision - a.revision ||
        Number(b.inItsHour) - Number(a.inItsHour) ||
        a.partition.localeCompare(b.partition) ||
        a.shard - b.shard,
    )[0]!;
    for (const copy of all)
      // Two rows of one id in one file cannot be told apart by a merge: left, and reported again.
      if (copy !== keep && (copy.partition !== keep.partition || copy.shard !== keep.shard)) {
        remove(copy, id);
        duplicatesRemoved++;
      }
  }
  const rewrite = new Map<string, Part>();
  for (const problem of before.problems)
    if (problem.kind === 'orphans' || problem.kind === 'incomplete' || problem.kind === 'unpaired')
      rewrite.set(partId(problem), problem);
  for (const [key, { part }] of removals) rewrite.set(key, part);

  const total = emptyMergeResult();
  const reexport = new Set<string>();
  for (const [key, part] of rewrite) {
    const result = await repairHourFile(
      store,
      part.partition,
      part.shard,
      removals.get(key)?.ids ?? new Map(),
      {
        now,
      },
    );
    addMergeResult(total, result);
    if (result.withdrawn > 0) reexport.add(part.partition);
  }
  // Nothing rewritten: the lake is as `before` found it (a scheduled mending's usual case: one read, not two).
  const after = rewrite.size === 0 ? before : await verifyLake(store, { ...options, onProgress: undefined });
  return {
    before,
    partsRewritten: total.filesWritten / 2,
    orphansDropped: total.orphansDropped,
    tracesWithdrawn: total.withdrawn,
    duplicatesRemoved,
    reexport: [...reexport].sort().map((partition) => ({
      from: new Date(partitionStartMs(partition)).toISOString(),
      to: new Date(partitionStartMs(partition) + 3_600_000).toISOString(),
    })),
    after,
  };
}

/** Days a bounded listing goes day by day; a longer range lists the whole table (a call per 1,000 keys). */
const DAY_PREFIX_MAX_DAYS = 62;

/**
 * The keys of a table's part files, for the hours of [from, to): day by day (`traces/dt=2026-11-20/`) for a
 * bounded range, so checking a few hours of a year-old lake lists those days, not the year's keys.
 */
async function* listTable(store: ObjectStore, table: string, options: VerifyOptions): AsyncIterable<string> {
  const { from, to } = options;
  const day = 86_400;
  if (from === undefined || to === undefined || (to - from) / day > DAY_PREFIX_MAX_DAYS) {
    yield* store.list(`${table}/`);
    return;
  }
  for (let start = Math.floor(from / day) * day; start < to; start += day)
    yield* store.list(`${table}/dt=${partitionOf(start * 1000).dt}/`);
}

/** Each trace's revision and start in one part file's traces file (empty when the file is gone). */
async function traceIndex(store: ObjectStore, part: Part) {
  const key = partKey('traces', part.partition, part.shard);
  const read = await readParquetColumns(store, key, 'traces', ['trace_id', 'revision', 'start_time']);
  return new Map((read?.rows ?? []).map((row) => [row.trace_id, row]));
}
