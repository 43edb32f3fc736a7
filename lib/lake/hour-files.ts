import { PreconditionFailedError } from '../store/errors.js';
import { RETENTION_DAYS } from '../xray/limits.js';
import { UnreadableLakeFileError } from './errors.js';
import type { ObjectStore } from '../store/object-store.js';
import {
  decodeParquetColumns,
  decodeRowGroups,
  encodeParquet,
  openParquet,
  type ParquetFile,
  rowGroupsMovable,
  sameSchema,
} from './parquet.js';
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

/**
 * Row groups at least this large are kept byte for byte when their file is merged into, unless they hold a
 * trace being replaced; smaller ones are re-encoded with the new rows. So a merge re-encodes what it adds
 * plus at most one small group, not the whole hour (a busy hour split into four units used to encode
 * 1 + 2 + 3 + 4 units' rows), and small groups never pile up: every write folds them into its own.
 * 20,000 segment rows are about 1,100 of the simulator's traces (18.5 rows each); real traces have fewer.
 */
export const KEEP_ROW_GROUP_ROWS = { traces: 2_000, segments: 20_000 } as const;

/**
 * How long a merge keeps segment rows whose trace the traces file lacks (orphans): 15 minutes, the longest
 * a Lambda invocation runs (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
 * A writer puts the segments file, then the traces file; read between the two, its segments are orphans.
 * Dropped, they were lost whenever that writer's traces write landed before ours (its traces without
 * their segments); kept, either order ends with every row: its traces write fails on ours and it merges
 * again, or ours fails on its and finds its traces there. Only a writer stalled longer than this between
 * two consecutive puts (a process paused, not a slow network) can still lose them; until then they are
 * taken for a stopped run's and dropped. They used to be waited out for 5 s, which a longer stall beat.
 */
export const ORPHAN_GRACE_MS = 15 * 60_000;

/**
 * The segments file's footer key for the orphans it carries: JSON, trace id → when a merge first found
 * that trace's rows orphaned (epoch ms). Written only while there are orphans; readers ignore it.
 */
export const ORPHANS_KEY = 'xray-lake.orphans';

/** `traces/dt=2026-11-20/hour=10/part-00000.parquet` */
export function partKey(table: TableName, partitionPath: string, shard: number): string {
  return `${TABLES[table]}/${partitionPath}/part-${String(shard).padStart(5, '0')}.parquet`;
}

/** What a part file's key names ({@link partKey} read back), or undefined for another key. */
export function parsePartKey(
  key: string,
): { table: TableName; partition: string; shard: number } | undefined {
  const match = /^(traces|segments)\/(dt=\d{4}-\d{2}-\d{2}\/hour=\d{2})\/part-(\d+)\.parquet$/.exec(key);
  return match ? { table: match[1] as TableName, partition: match[2]!, shard: Number(match[3]) } : undefined;
}

/** An hour's part file pair as a map key: `dt=2026-11-20/hour=10#0`. */
export const partId = (part: { partition: string; shard: number }): string =>
  `${part.partition}#${part.shard}`;

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
  /** Traces taken out of an hour they were written to before their start time moved (see {@link formerPartitions}). */
  moved: number;
  /**
   * Traces taken out of the traces file because the segments file did not hold their rows (see
   * {@link withdrawnTraces}): missing now, so the next pass over their window fetches them whole again.
   */
  withdrawn: number;
  /** Traces whose orphan segment rows were dropped, past {@link ORPHAN_GRACE_MS}. */
  orphansDropped: number;
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
  const key = partKey('traces', partitionPath, shard);
  const object = await store.get(key);
  const revisions = new Map<string, number>();
  if (!object) return revisions;
  const rows = await reading(store, key, () =>
    decodeParquetColumns('traces', object.body, ['trace_id', 'revision']),
  );
  for (const row of rows) revisions.set(row.trace_id, row.revision);
  return revisions;
}

/** Runs `read` over the lake file at `key`, naming the file in whatever it throws. */
async function reading<T>(store: ObjectStore, key: string, read: () => T | Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new UnreadableLakeFileError(`${store.location}/${key}`, error);
  }
}

/**
 * Merges traces into their hour files (read, merge, conditional write). A trace replaces the rows the lake
 * has for it only when its revision is newer, so re-running any window changes nothing and late segments
 * arrive as a newer revision. Segments are written before traces: a run stopped between the two leaves
 * the traces file at the old revision, so the next run rewrites both. A trace whose start time moved to
 * another hour since it was written (a late root) is taken out of its old hour first.
 */
export async function mergeIntoHourFiles(
  store: ObjectStore,
  traces: readonly TraceRows[],
  options: {
    /** Part files an hour is spread over (by hash of the trace id). */
    shards?: number;
    /** See {@link KEEP_ROW_GROUP_ROWS}. */
    keepRowGroupRows?: { traces: number; segments: number };
    /** See {@link ORPHAN_GRACE_MS}. */
    orphanGraceMs?: number;
    /** The clock orphans are aged by (epoch ms). */
    now?: () => number;
  } = {},
): Promise<MergeResult> {
  const {
    shards = 1,
    keepRowGroupRows = KEEP_ROW_GROUP_ROWS,
    orphanGraceMs = ORPHAN_GRACE_MS,
    now = Date.now,
  } = options;
  const orphans = { graceMs: orphanGraceMs, now };
  const total = emptyMergeResult();
  // The newest offered revision of each trace: two revisions of one trace in a batch can start in different
  // hours, and each written to its own would leave the trace in both.
  const newest = new Map<string, TraceRows>();
  for (const rows of traces) {
    const previous = newest.get(rows.trace.trace_id);
    if (!previous || rows.trace.revision > previous.trace.revision) newest.set(rows.trace.trace_id, rows);
  }
  const offered = [...newest.values()];
  // First the traces whose start moved out of an hour are taken out of it, then they are written to their
  // new hour. Stopped between the two, a run leaves such a trace in neither, and the run again (which lists
  // its window again, the checkpoint not having moved) finds it missing and writes it; the other order would
  // leave it in both, and the run again, finding it current in its new hour, would fetch nothing.
  const former = new Map<string, { partition: string; shard: number; removals: Map<string, number> }>();
  for (const rows of offered) {
    const { trace_id: id, revision } = rows.trace;
    for (const partition of formerPartitions(rows)) {
      const shard = shardOf(id, shards);
      const key = partId({ partition, shard });
      const entry = former.get(key) ?? { partition, shard, removals: new Map<string, number>() };
      former.set(key, entry);
      entry.removals.set(id, revision);
    }
  }
  const newerElsewhere = new Set<string>();
  for (const { partition, shard, removals } of former.values()) {
    // Nearly always the trace was never there: the traces file's ids tell, without the segments file.
    const there = await readRevisions(store, partition, shard);
    if (![...removals.keys()].some((id) => there.has(id))) continue;
    const { result, newer } = await mergeOne(
      store,
      partition,
      shard,
      [],
      removals,
      keepRowGroupRows,
      orphans,
    );
    addMergeResult(total, result);
    for (const id of newer) newerElsewhere.add(id);
  }

  const groups = new Map<string, { partition: string; shard: number; traces: TraceRows[] }>();
  for (const rows of offered) {
    // The lake has this trace at this revision or newer in another hour (a later revision whose start is
    // there): this one is stale, and writing it would put the trace in two hours.
    if (newerElsewhere.has(rows.trace.trace_id)) {
      total.unchanged++;
      continue;
    }
    const partition = partitionOf(rows.trace.start_time).path;
    const shard = shardOf(rows.trace.trace_id, shards);
    const key = partId({ partition, shard });
    const group = groups.get(key) ?? { partition, shard, traces: [] };
    groups.set(key, group);
    group.traces.push(rows);
  }
  for (const group of groups.values()) {
    const { result } = await mergeOne(
      store,
      group.partition,
      group.shard,
      group.traces,
      new Map(),
      keepRowGroupRows,
      orphans,
    );
    addMergeResult(total, result);
  }
  return total;
}

/** A merge that did nothing: the start of a running total. */
export const emptyMergeResult = (): MergeResult => ({
  written: 0,
  segments: 0,
  unchanged: 0,
  filesWritten: 0,
  bytesWritten: 0,
  conflicts: 0,
  moved: 0,
  withdrawn: 0,
  orphansDropped: 0,
});

/**
 * The hours other than its own in which earlier revisions of a trace may have been written. A trace's start
 * time (its partition, DESIGN.md) is its root segment's, or its earliest document's while the root has not
 * arrived; so a root arriving late moves it, across an hour boundary now and then, and without this the
 * trace would stay in its old hour as well as its new one. Documents are only ever added to a trace, so
 * every earlier start is the start of one of this revision's rows: the hours of those are all the places
 * it can have been. For nearly every trace that is its own hour alone, and nothing is read.
 */
function formerPartitions(rows: TraceRows): string[] {
  const own = Math.floor(rows.trace.start_time / HOUR_MS);
  let hours: Set<number> | undefined;
  for (const segment of rows.segments) {
    const hour = Math.floor(segment.start_time / HOUR_MS);
    if (hour !== own) (hours ??= new Set()).add(hour);
  }
  return hours ? [...hours].map((hour) => partitionOf(hour * HOUR_MS).path) : [];
}
const HOUR_MS = 3_600_000;

/**
 * Rewrites one hour's part file pair as a merge would with nothing to add, for `xray-lake verify --repair`:
 * orphans past the grace dropped (younger ones dated), traces without their rows withdrawn, and the traces
 * of `removals` taken out where the file holds them below the given revision (`Infinity`: at any revision).
 * A conditional write like every merge's, so it is safe beside running exports.
 */
export async function repairHourFile(
  store: ObjectStore,
  partition: string,
  shard: number,
  removals: ReadonlyMap<string, number>,
  options: { orphanGraceMs?: number; now?: () => number } = {},
): Promise<MergeResult> {
  const orphans = { graceMs: options.orphanGraceMs ?? ORPHAN_GRACE_MS, now: options.now ?? Date.now };
  const { result } = await mergeOne(
    store,
    partition,
    shard,
    [],
    removals,
    KEEP_ROW_GROUP_ROWS,
    orphans,
    true,
  );
  return result;
}

/**
 * One hour file's read-merge-write: `incoming` traces replace older revisions of themselves, and the traces
 * of `removals` (id → the revision written elsewhere) are taken out where the file holds an older revision.
 * `newer`: the ids of `removals` the file holds at that revision or newer. With `repair`, an hour whose
 * files disagree is rewritten even when nothing else changes, so its orphans are dated or dropped.
 */
async function mergeOne(
  store: ObjectStore,
  partition: string,
  shard: number,
  incoming: readonly TraceRows[],
  removals: ReadonlyMap<string, number>,
  keepRows: { traces: number; segments: number },
  orphans: { graceMs: number; now: () => number },
  repair = false,
): Promise<{ result: MergeResult; newer: string[] }> {
  const tracesKey = partKey('traces', partition, shard);
  const segmentsKey = partKey('segments', partition, shard);
  // One revision of each trace (mergeIntoHourFiles kept the newest).
  const offered = new Map(incoming.map((rows) => [rows.trace.trace_id, rows]));

  let conflicts = 0;
  for (let attempt = 1; ;) {
    const [tracesObject, segmentsObject] = await Promise.all([store.get(tracesKey), store.get(segmentsKey)]);
    const tracesFile = tracesObject
      ? await reading(store, tracesKey, () => openParquet(tracesObject.body))
      : undefined;
    const segmentsFile = segmentsObject
      ? await reading(store, segmentsKey, () => openParquet(segmentsObject.body))
      : undefined;
    const index = tracesFile
      ? await reading(store, tracesKey, () =>
          decodeParquetColumns('traces', tracesFile, ['trace_id', 'revision', 'segment_count', 'start_time']),
        )
      : [];
    const existing = new Map(index.map((row, i) => [row.trace_id, { ...row, row: i }]));
    const replacing = [...offered.values()].filter((rows) => {
      const current = existing.get(rows.trace.trace_id);
      return !current || rows.trace.revision > current.revision;
    });
    const removing: string[] = [];
    const newer: string[] = [];
    for (const [id, revision] of removals) {
      const current = existing.get(id);
      if (current) (current.revision < revision ? removing : newer).push(id);
    }
    // The segments file holds exactly the traces file's traces when its rows add up to their segment
    // counts. Otherwise it may hold orphans (another writer's between its two puts, or a stopped run's),
    // and traces without their rows.
    const consistent = (segmentsFile?.rows ?? 0) === index.reduce((sum, row) => sum + row.segment_count, 0);
    const now = orphans.now();
    // Our own traces and those we take out: their rows are dropped.
    const dropping = new Set([...replacing.map((rows) => rows.trace.trace_id), ...removing]);
    const withdrawn = consistent
      ? new Set<string>()
      : await withdrawnTraces(store, segmentsKey, segmentsFile, index, dropping, now);
    if (dropping.size === 0 && withdrawn.size === 0 && (consistent || !repair))
      return { result: { ...emptyMergeResult(), unchanged: offered.size, conflicts }, newer };
    const orphanedSince = consistent ? new Map<string, number>() : orphanDates(segmentsFile);
    // The traces whose rows in the traces file go (a withdrawn trace's segment rows stay, as orphans).
    const replaced = new Set([...dropping, ...withdrawn]);
    const plan = await planMerge(tracesFile, segmentsFile, consistent, existing, replaced, keepRows, () =>
      reading(store, segmentsKey, () => decodeParquetColumns('segments', segmentsFile!, ['trace_id'])),
    );

    const keptTraces = tracesFile
      ? (
          await reading(store, tracesKey, () => decodeRowGroups('traces', tracesFile, plan.traces.rewrite))
        ).filter((row) => !replaced.has(row.trace_id))
      : [];
    const traceRows: TraceRow[] = [...keptTraces, ...replacing.map((rows) => rows.trace)];
    traceRows.sort((a, b) => byStart(a.start_time, a.trace_id, b.start_time, b.trace_id));
    // The re-encoded segment rows: those of traces kept from the groups being rewritten, then the replacing
    // traces'. Rows of a trace the traces file lacks are kept for ORPHAN_GRACE_MS from when a merge first
    // found them so, then taken for a stopped run's and dropped.
    const keptOrphans = new Map<string, number>();
    const droppedOrphans = new Set<string>();
    const keptSegments = segmentsFile
      ? (
          await reading(store, segmentsKey, () =>
            decodeRowGroups('segments', segmentsFile, plan.segments.rewrite),
          )
        ).filter((row) => {
          const id = row.trace_id;
          if (dropping.has(id)) return false;
          if (existing.has(id) && !withdrawn.has(id)) return true;
          const since = keptOrphans.get(id) ?? orphanedSince.get(id) ?? now;
          if (now - since >= orphans.graceMs) {
            droppedOrphans.add(id);
            return false;
          }
          keptOrphans.set(id, since);
          return true;
        })
      : [];
    const byTrace = new Map<string, SegmentRow[]>();
    for (const row of keptSegments) push(byTrace, row.trace_id, row);
    for (const rows of replacing) byTrace.set(rows.trace.trace_id, rows.segments);
    // In the traces' order, each trace's rows kept together in depth-first order (an orphan by its first row).
    const start = (id: string) =>
      offered.get(id)?.trace.start_time ?? existing.get(id)?.start_time ?? byTrace.get(id)![0]!.start_time;
    const segmentOrder = [...byTrace.keys()].sort((a, b) => byStart(start(a), a, start(b), b));
    const segmentRows = segmentOrder.flatMap((id) => byTrace.get(id)!);

    const segmentsBody = encodeParquet(
      'segments',
      segmentRows,
      plan.segments.keep,
      keptOrphans.size > 0
        ? { metadata: [{ key: ORPHANS_KEY, value: JSON.stringify(Object.fromEntries(keptOrphans)) }] }
        : {},
    );
    const tracesBody = encodeParquet('traces', traceRows, plan.traces.keep);
    try {
      await store.put(segmentsKey, segmentsBody, { ifMatch: segmentsObject?.etag ?? null });
      await store.put(tracesKey, tracesBody, { ifMatch: tracesObject?.etag ?? null });
      return {
        result: {
          written: replacing.length,
          segments: replacing.reduce((sum, rows) => sum + rows.segments.length, 0),
          unchanged: offered.size - replacing.length,
          filesWritten: 2,
          bytesWritten: segmentsBody.byteLength + tracesBody.byteLength,
          conflicts,
          moved: removing.length,
          withdrawn: withdrawn.size,
          orphansDropped: droppedOrphans.size,
        },
        newer,
      };
    } catch (error) {
      if (!(error instanceof PreconditionFailedError) || attempt >= MERGE_ATTEMPTS) throw error;
      attempt++;
      conflicts++;
    }
  }
}

/**
 * Traces of an hour whose two files disagree that the segments file does not hold whole (their rows there
 * do not add up to their segment count), besides those this merge rewrites anyway (`dropping`). Left in,
 * such a trace would stay without its segments for good: current by revision, it is never fetched again.
 * It happens when two writers export one trace at once and the older revision's segments put lands over
 * the newer's, whose traces put then wins; and, for a moment, while another writer is between its two puts
 * replacing the trace (its traces put then fails on ours, and it merges again, finding the trace missing).
 * Taken out of the traces file, the trace is missing, so the next pass over its window fetches it again
 * (the revisit pass does for a trace updated in its last hours); its rows stay, as orphans. Only traces
 * X-Ray still has are taken out: older ones could not be fetched again, and some of a trace's segments
 * are better than none.
 */
async function withdrawnTraces(
  store: ObjectStore,
  segmentsKey: string,
  segmentsFile: ParquetFile | undefined,
  index: readonly { trace_id: string; segment_count: number; start_time: number }[],
  dropping: ReadonlySet<string>,
  now: number,
): Promise<Set<string>> {
  const rows = new Map<string, number>();
  if (segmentsFile)
    for (const { trace_id: id } of await reading(store, segmentsKey, () =>
      decodeParquetColumns('segments', segmentsFile, ['trace_id']),
    ))
      rows.set(id, (rows.get(id) ?? 0) + 1);
  const horizon = now - RETENTION_DAYS * 86_400_000;
  const withdrawn = new Set<string>();
  for (const { trace_id: id, segment_count: count, start_time: start } of index)
    if (!dropping.has(id) && start >= horizon && (rows.get(id) ?? 0) !== count) withdrawn.add(id);
  return withdrawn;
}

/**
 * The orphans a segments file carries by its footer (see {@link ORPHANS_KEY}): trace id → first found.
 * A file without the key (a stopped run's own, or one written before the key) names none, so its orphans
 * count from now.
 */
export function orphanDates(file: Pick<ParquetFile, 'metadata'> | undefined): Map<string, number> {
  const text = file?.metadata.key_value_metadata?.find((kv) => kv.key === ORPHANS_KEY)?.value;
  const since = new Map<string, number>();
  if (!text) return since;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Unreadable, the key names no orphan: they count from now, which only keeps them longer.
    return since;
  }
  if (parsed && typeof parsed === 'object')
    for (const [id, at] of Object.entries(parsed))
      if (typeof at === 'number' && Number.isFinite(at)) since.set(id, at);
  return since;
}

/** Which row groups of an hour's two files a merge re-encodes, and which it keeps as they are. */
interface MergePlan {
  traces: TablePlan;
  segments: TablePlan;
}
interface TablePlan {
  rewrite: number[];
  keep?: { file: ParquetFile; groups: number[] };
}

async function planMerge(
  tracesFile: ParquetFile | undefined,
  segmentsFile: ParquetFile | undefined,
  /** Whether the segments file's rows add up to the traces file's segment counts. */
  consistent: boolean,
  existing: ReadonlyMap<string, { row: number }>,
  replaced: ReadonlySet<string>,
  keepRows: { traces: number; segments: number },
  /** The segments file's trace ids, row by row (read only when a trace is replaced). */
  segmentTraceIds: () => Promise<readonly { trace_id: string }[]>,
): Promise<MergePlan> {
  const everything = (file: ParquetFile | undefined): TablePlan => ({
    rewrite: file ? file.groupRows.map((_, g) => g) : [],
  });
  // Files that disagree after a run stopped between its two writes (segments go first): everything is
  // re-encoded, which drops the segments of traces the traces file lacks, as every merge once did.
  if (!consistent || !tracesFile || !segmentsFile || !keepable(tracesFile) || !keepable(segmentsFile))
    return { traces: everything(tracesFile), segments: everything(segmentsFile) };

  const replacedRows: number[] = [];
  for (const id of replaced) {
    const at = existing.get(id);
    if (at) replacedRows.push(at.row);
  }
  const tracesRewrite = groupsOf(tracesFile, replacedRows);
  const segmentsRewrite = new Set<number>();
  if (replacedRows.length > 0) {
    // Where the replaced traces' segments are: one column read, only when a trace is replaced (late data).
    const ids = await segmentTraceIds();
    const rows = ids.flatMap((row, i) => (replaced.has(row.trace_id) ? [i] : []));
    for (const g of groupsOf(segmentsFile, rows)) segmentsRewrite.add(g);
  }
  return {
    traces: split(tracesFile, tracesRewrite, keepRows.traces),
    segments: split(segmentsFile, segmentsRewrite, keepRows.segments),
  };
}

/**
 * Whether a file's groups can be kept by a file written now: same schema as a fresh file of its table, and
 * groups that can be moved (true of every file xray-lake has written; checked, as a lake may hold others).
 */
function keepable(file: ParquetFile): boolean {
  const table = file.metadata.key_value_metadata?.find((kv) => kv.key === 'xray-lake.table')?.value;
  if (table !== 'traces' && table !== 'segments') return false;
  const fresh = (FRESH[table] ??= openParquet(encodeParquet(table, [])));
  return sameSchema(file, fresh) && rowGroupsMovable(file);
}
const FRESH: Partial<Record<TableName, ParquetFile>> = {};

/** The row groups holding the given rows. */
function groupsOf(file: ParquetFile, rows: readonly number[]): Set<number> {
  const groups = new Set<number>();
  for (const row of rows) {
    let g = 0;
    while (g + 1 < file.groupStarts.length && file.groupStarts[g + 1]! <= row) g++;
    groups.add(g);
  }
  return groups;
}

function split(file: ParquetFile, rewrite: Set<number>, keepRows: number): TablePlan {
  const plan: TablePlan = { rewrite: [], keep: { file, groups: [] } };
  file.groupRows.forEach((rows, g) => {
    if (rewrite.has(g) || rows < keepRows) plan.rewrite.push(g);
    else plan.keep!.groups.push(g);
  });
  return plan;
}

/** The order of an hour file's traces: by start time, then by id. */
function byStart(aStart: number, aId: string, bStart: number, bId: string): number {
  return aStart - bStart || (aId < bId ? -1 : aId > bId ? 1 : 0);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
