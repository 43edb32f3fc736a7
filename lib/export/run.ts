import { randomBytes } from 'node:crypto';
import { mergeIntoHourFiles, readRevisions, shardOf } from '../lake/hour-files.js';
import { partitionOf, type Redactor, traceToRows, type TraceRows } from '../lake/schema.js';
import type { ObjectStore } from '../store/object-store.js';
import { assembleTrace } from '../xray/assemble.js';
import type { RawTrace, TimeRangeType, TraceRef, TraceSource } from '../xray/source.js';
import { summarizeTrace } from '../xray/summary.js';
import type { SegmentDocument } from '../xray/types.js';
import { parseSegmentDocument } from '../xray/validate.js';
import {
  type CallStats,
  DEFAULT_FETCH_OPTIONS,
  type FetchOptions,
  fetchTraces,
  newCallStats,
  withRetries,
} from './fetch.js';
import { type QuarantinedDocument, quarantine } from './quarantine.js';
import {
  acquireLease,
  advanceCheckpoint,
  checkLakeShards,
  readUnprocessed,
  writeUnprocessed,
} from './state.js';
import { traceIdEpochSeconds } from '../xray/ids.js';
import { RETENTION_DAYS } from '../xray/limits.js';

/**
 * Traces one unit of work may hold. A window listing more is split in two until each half fits, so a unit
 * always fits a Lambda invocation's time and memory (rows of 5,000 traces are about 100 MB in memory).
 */
export const MAX_TRACES_PER_UNIT = 5_000;
/** Windows are never split below this: one second of traces is one unit, however many. */
const MIN_WINDOW_SECONDS = 1;
const SECONDS_PER_HOUR = 3600;

export interface ExportOptions {
  /** Epoch seconds; traces that started in [from, to) are exported. */
  from: number;
  to: number;
  /** Part files per hour partition (by hash of trace id). Default 1. */
  shards?: number;
  maxTracesPerUnit?: number;
  fetch?: Partial<FetchOptions>;
  /**
   * Late data: after the range, re-scan traces updated in [revisit.from, revisit.to) by update time
   * (TimeRangeType=Event) and merge those whose revision changed.
   */
  revisit?: { from: number; to: number };
  /** Move the checkpoint to `to` as windows complete (a scheduled or resumed run). */
  advanceCheckpoint?: boolean;
  redact?: Redactor;
  runId?: string;
  /** Lease time to live; renewed after every window. */
  leaseTtlMs?: number;
  /**
   * Which lease the run takes: `export` (the default, the scheduled run's) or a backfill window's own, so
   * backfill workers run side by side (their hour-file writes are conditional) but never twice on one window.
   */
  leaseName?: string;
  /**
   * Epoch ms after which no new window starts (a Lambda's deadline); the report says where it stopped. A
   * window listed but not yet exported is not begun either when, at the pace of the run's windows so far,
   * it would not be done by then.
   */
  stopAt?: number;
  /**
   * Once aborted (Ctrl-C on the command line), no new window starts: the one under way completes, the lease
   * is released and the report says where it stopped, as at a deadline.
   */
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
  /** The run's clock (epoch ms): its lease, its unprocessed traces' dates, and its merges' orphan dates. */
  now?: () => number;
}

export interface ExportProgress {
  windowsDone: number;
  windowsPlanned: number;
  /** Epoch seconds reached. */
  reached: number;
  tracesExported: number;
}

/** What a run did: the command's JSON output and the Lambda's result. */
export interface RunReport {
  runId: string;
  from: string;
  to: string;
  windows: number;
  /**
   * Summaries listed, counted per window. By start time each trace counts in one window; by update time
   * (the revisit) X-Ray's inclusive window ends list a trace updated exactly on a boundary in both windows,
   * and it counts twice (it is fetched once: the second listing finds it current).
   */
  summariesScanned: number;
  tracesExported: number;
  tracesAlreadyCurrent: number;
  /**
   * The revisit pass: summaries it listed (as `summariesScanned` counts them), traces it exported, and where
   * it stopped when the deadline came first (the next run resumes there: its checkpoint moves window by window).
   */
  revisited: { scanned: number; exported: number; stoppedAt?: string };
  /**
   * A run to the live edge (`advanceCheckpoint`) first asks again for the traces earlier runs left
   * unprocessed (`_state/export/unprocessed.json`, at most a unit of them): how many, how many it exported,
   * and those given up because X-Ray keeps traces only 30 days. Those still unprocessed are in
   * `unprocessedTraceIds` again, and in the file for the next run.
   */
  retried: { asked: number; exported: number; expired: string[] };
  segmentsWritten: number;
  calls: CallStats['calls'];
  throttles: number;
  serverErrors: number;
  retries: number;
  quarantinedDocuments: number;
  quarantinedTraces: string[];
  unprocessedTraceIds: string[];
  limitExceededTraces: number;
  filesWritten: number;
  bytesWritten: number;
  writeConflicts: number;
  /**
   * Traces taken out of the hour they were in because their start time, and so their hour, moved: a root
   * segment that arrived late, before the hour the trace was first exported in (each is in its new hour).
   */
  tracesMoved: number;
  /**
   * Traces taken out of the lake because their hour's segments file did not hold their rows (another
   * writer exporting the same trace at the same moment): missing now, so the next pass over their window
   * (the revisit pass, for recent ones) fetches them whole again.
   */
  tracesWithdrawn: number;
  checkpoint: string | null;
  /** Set when the run stopped at its deadline before `to`: where the next run picks up. */
  stoppedAt?: string;
  seconds: number;
}

/** Hour-aligned windows covering [from, to): a window's traces then fall in one hour partition. */
export function planWindows(from: number, to: number): { from: number; to: number }[] {
  const windows: { from: number; to: number }[] = [];
  for (let start = from; start < to;) {
    const end = Math.min(to, (Math.floor(start / SECONDS_PER_HOUR) + 1) * SECONDS_PER_HOUR);
    windows.push({ from: start, to: end });
    start = end;
  }
  return windows;
}

/**
 * Exports the traces that started in [from, to) from a trace source into the lake: exactly once (by
 * revision), resumable (the checkpoint moves only after a window is durable), streaming (one unit in
 * memory at a time), and with nothing lost silently (invalid documents quarantined, unfetchable ids
 * reported by id).
 */
export async function exportRange(
  deps: { source: TraceSource; store: ObjectStore },
  options: ExportOptions,
): Promise<RunReport> {
  const started = performance.now();
  const runId = options.runId ?? `export-${new Date().toISOString()}-${randomBytes(3).toString('hex')}`;
  const fetchOptions: FetchOptions = { ...DEFAULT_FETCH_OPTIONS, ...options.fetch };
  const stats = newCallStats();
  const report: RunReport = {
    runId,
    from: isoOf(options.from),
    to: isoOf(options.to),
    windows: 0,
    summariesScanned: 0,
    tracesExported: 0,
    tracesAlreadyCurrent: 0,
    revisited: { scanned: 0, exported: 0 },
    retried: { asked: 0, exported: 0, expired: [] },
    segmentsWritten: 0,
    calls: stats.calls,
    throttles: 0,
    serverErrors: 0,
    retries: 0,
    quarantinedDocuments: 0,
    quarantinedTraces: [],
    unprocessedTraceIds: [],
    limitExceededTraces: 0,
    filesWritten: 0,
    bytesWritten: 0,
    writeConflicts: 0,
    tracesMoved: 0,
    tracesWithdrawn: 0,
    checkpoint: null,
    seconds: 0,
  };
  const lease = await acquireLease(
    deps.store,
    runId,
    options.leaseTtlMs ?? 15 * 60_000,
    options.now,
    options.leaseName,
  );
  const context: UnitContext = { deps, options, fetchOptions, stats, report, shards: options.shards ?? 1 };
  // Only a run to the live edge keeps the list: a bounded backfill's unprocessed ids are in its report, and
  // running the same range again asks for them.
  let carried: Awaited<ReturnType<typeof readUnprocessed>> | undefined;
  try {
    await checkLakeShards(deps.store, context.shards);
    if (options.advanceCheckpoint) {
      carried = await readUnprocessed(deps.store);
      await retryUnprocessed(context, Object.keys(carried.traces));
    }
    const windows = planWindows(options.from, options.to);
    const reached = async (window: TimeWindow) => {
      if (options.advanceCheckpoint)
        report.checkpoint = isoOf((await advanceCheckpoint(deps.store, window.to, runId)).position);
      await lease.renew();
    };
    const stoppedAt = await exportWindows(context, windows, 'TraceId', reached, (index, window) =>
      options.onProgress?.({
        windowsDone: index + 1,
        windowsPlanned: windows.length,
        reached: window.to,
        tracesExported: report.tracesExported,
      }),
    );
    if (stoppedAt !== undefined) report.stoppedAt = stoppedAt;
    if (options.revisit && options.revisit.to > options.revisit.from && report.stoppedAt === undefined) {
      // Hour windows by update time, each split like the range's when it lists too many traces, with the
      // checkpoint moved after each: a busy account's revisit (every trace of the last hours has an
      // update) is resumable and never one unit too big for an invocation.
      const before = { scanned: report.summariesScanned, exported: report.tracesExported };
      const revisitWindows = planWindows(options.revisit.from, options.revisit.to);
      const stoppedAt = await exportWindows(context, revisitWindows, 'Event', async (window) => {
        if (options.advanceCheckpoint)
          await advanceCheckpoint(deps.store, window.to, runId, new Date(), 'revisitPosition');
        await lease.renew();
      });
      report.revisited = {
        scanned: report.summariesScanned - before.scanned,
        exported: report.tracesExported - before.exported,
        ...(stoppedAt && { stoppedAt }),
      };
    }
  } finally {
    try {
      if (carried) await keepUnprocessed(context, carried);
    } finally {
      await lease.release();
      report.throttles = stats.throttles;
      report.serverErrors = stats.serverErrors;
      report.retries = stats.retries;
      report.seconds = Math.round(performance.now() - started) / 1000;
    }
  }
  return report;
}

/**
 * Asks again for traces earlier runs left unprocessed (at most one unit, so a long list cannot take a run's
 * time from the live edge), by id: without a summary, at revision 0, so a trace the lake has by now (a
 * revisit found it) is not fetched, and a later listing with its revision replaces these rows.
 */
async function retryUnprocessed(context: UnitContext, ids: readonly string[]): Promise<void> {
  const { report } = context;
  const asked = ids.slice(0, context.options.maxTracesPerUnit ?? MAX_TRACES_PER_UNIT);
  if (asked.length === 0 || shouldStop(context.options)) return;
  const before = report.tracesExported;
  await exportListed(
    context,
    new Map(asked.map((id) => [id, { id, revision: 0, startTime: traceIdEpochSeconds(id) }])),
  );
  report.retried.asked = asked.length;
  report.retried.exported = report.tracesExported - before;
}

/**
 * Writes the unprocessed list for the next run: this run's unprocessed ids, the earlier ones it did not get
 * to, less those older than X-Ray's retention (reported as expired). Runs when the run fails too, so ids of
 * windows it made durable before failing are kept.
 */
async function keepUnprocessed(
  context: UnitContext,
  carried: Awaited<ReturnType<typeof readUnprocessed>>,
): Promise<void> {
  const { report, deps } = context;
  const now = (context.options.now ?? Date.now)();
  const asked = new Set(Object.keys(carried.traces).slice(0, report.retried.asked));
  const next: Record<string, string> = {};
  for (const [id, since] of Object.entries(carried.traces)) if (!asked.has(id)) next[id] = since;
  for (const id of report.unprocessedTraceIds) next[id] ??= carried.traces[id] ?? new Date(now).toISOString();
  const horizon = now / 1000 - RETENTION_DAYS * 86_400;
  for (const id of Object.keys(next))
    if (traceIdEpochSeconds(id) < horizon) {
      delete next[id];
      report.retried.expired.push(id);
    }
  await writeUnprocessed(deps.store, next, carried.etag);
}

interface UnitContext {
  deps: { source: TraceSource; store: ObjectStore };
  options: ExportOptions;
  fetchOptions: FetchOptions;
  stats: CallStats;
  report: RunReport;
  shards: number;
  /** The run's pace so far: time spent exporting windows, and the traces they fetched. */
  pace?: { ms: number; traces: number };
}

/**
 * Whether a window of `traces` traces to fetch would, at the run's pace so far, end past `stopAt`: begun, it
 * would be cut off by the Lambda's timeout, leaving the lease held for its time to live and the window to
 * do again. (At 5 BatchGetTraces calls a second, xray-local's default quota, a unit of 5,000 traces takes
 * over 3 minutes, more than the margin the deadline leaves; AWS's own quota is not checked here.) The
 * run's first window always goes ahead, so every run makes progress.
 */
function wouldOverrun(context: UnitContext, traces: number): boolean {
  const { pace, options } = context;
  if (options.stopAt === undefined || !pace || pace.traces === 0) return false;
  return Date.now() + (pace.ms / pace.traces) * traces > options.stopAt;
}

/** Whether the Lambda's deadline (epoch ms) has passed or the run was aborted: no new window starts then. */
const shouldStop = (options: ExportOptions): boolean =>
  options.signal?.aborted === true || (options.stopAt !== undefined && Date.now() >= options.stopAt);
const isoOf = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

/** A window's listing: its traces' refs, or that it holds more than one unit and is to be split. */
type Listing = { refs: Map<string, TraceRef> } | { split: true };

/** Epoch seconds, [from, to). */
interface TimeWindow {
  from: number;
  to: number;
}

/**
 * Lists a window's traces, page after page (GetTraceSummaries pages follow each other's tokens). Stops as
 * soon as the window holds more than a unit and can be split. Reads only: the lake is not touched.
 */
async function listWindow(
  context: UnitContext,
  window: { from: number; to: number },
  timeRangeType: TimeRangeType,
): Promise<Listing> {
  const { deps, fetchOptions, stats } = context;
  const max = context.options.maxTracesPerUnit ?? MAX_TRACES_PER_UNIT;
  const refs = new Map<string, TraceRef>();
  let nextToken: string | undefined;
  do {
    const page = await withRetries(
      'GetTraceSummaries',
      () => {
        stats.calls.GetTraceSummaries++;
        return deps.source.listPage({ ...window, timeRangeType }, nextToken);
      },
      fetchOptions,
      stats,
    );
    // Every trace listed is kept, even one whose summary's StartTime lies outside the window: X-Ray's
    // windows are inclusive at both ends, so a trace on a boundary is listed by both windows (the second
    // finds its revision already in the lake and fetches nothing), and a summary's StartTime need not be the
    // time the window matched on (a root segment still missing, a skewed clock): filtered by it, such a trace
    // was left out of the one window that listed it, and never exported.
    for (const ref of page.refs) refs.set(ref.id, ref);
    nextToken = page.nextToken;
    if (refs.size > max && window.to - window.from > MIN_WINDOW_SECONDS) return { split: true };
  } while (nextToken);
  return { refs };
}

/**
 * Exports windows one after the other, each listed while the one before it is fetched and written: the
 * listing is a chain of page requests, one at a time, which against X-Ray's read API is waiting (at 50 ms
 * a response, xray-local's `--latency-ms`, it was ~45% of a run), so it overlaps the previous window's
 * fetches, conversion and write instead of following them. Each window is still written, and its
 * checkpoint moved (`done`), in order. A window listed ahead is listed earlier in the run than it would be
 * otherwise, but never before the run began: a trace whose segments arrive after its window was listed was
 * updated after the run's start, which is where the next run's revisit (by update time) begins, so it is
 * found there, as late data always was. When the run stops early, the listing under way is waited for and
 * dropped.
 */
async function exportWindows(
  context: UnitContext,
  windows: readonly TimeWindow[],
  timeRangeType: TimeRangeType,
  /** After each window, or each part of a split one, is durable: moves the checkpoint to its end. */
  reached: (window: TimeWindow) => Promise<void>,
  /** After each of `windows` is done (progress). */
  done?: (index: number, window: TimeWindow) => void,
): Promise<string | undefined> {
  const listAhead = (index: number) => {
    const listing = listWindow(context, windows[index]!, timeRangeType);
    // Its failure is the run's when its turn comes, not an unhandled rejection meanwhile.
    listing.catch(() => {});
    return listing;
  };
  const stop = () => shouldStop(context.options);
  let ahead = windows.length > 0 && !stop() ? listAhead(0) : undefined;
  try {
    for (const [index, window] of windows.entries()) {
      if (stop()) return isoOf(window.from);
      const listing = await ahead!;
      ahead = index + 1 < windows.length ? listAhead(index + 1) : undefined;
      if ('split' in listing) {
        // Too big for one unit: its halves, by the same rules (the second listed while the first is
        // exported), each moving the checkpoint once durable. A busy hour that takes longer than an
        // invocation then stops at the deadline between its parts and the next run goes on from there,
        // where as one unit of the checkpoint it was begun again by every run and never finished.
        const middle = Math.floor((window.from + window.to) / 2);
        const halves = [
          { from: window.from, to: middle },
          { from: middle, to: window.to },
        ];
        const stoppedAt = await exportWindows(context, halves, timeRangeType, reached);
        if (stoppedAt !== undefined) return stoppedAt;
      } else {
        context.report.summariesScanned += listing.refs.size;
        if ((await exportListed(context, listing.refs)) === 'not begun') return isoOf(window.from);
        context.report.windows++;
        await reached(window);
      }
      done?.(index, window);
    }
    return undefined;
  } finally {
    // Nothing of the run goes on after it returns (the caller may destroy its client).
    await ahead?.catch(() => {});
  }
}

/**
 * Exports a listed window that fits one unit: its new and changed traces, fetched, converted and merged into
 * their hour files. (By update time, a trace updated in both halves of a split window is fetched once: the
 * second listing finds its revision already in the lake.) `'not begun'` when, at the run's pace, its fetches
 * would end past the deadline (see {@link wouldOverrun}): nothing of it is done.
 */
async function exportListed(
  context: UnitContext,
  refs: ReadonlyMap<string, TraceRef>,
): Promise<'not begun' | undefined> {
  const { deps, fetchOptions, stats, report } = context;
  const started = Date.now();
  if (refs.size === 0) return;

  // Only new traces and traces whose revision moved are fetched: API calls stay at one BatchGetTraces per
  // five of those, however often a window is re-run.
  const current = new Map<string, number>();
  const partitions = new Set<string>();
  for (const ref of refs.values())
    partitions.add(`${partitionOf(ref.startTime * 1000).path}#${shardOf(ref.id, context.shards)}`);
  for (const key of partitions) {
    const [partition, shard] = key.split('#') as [string, string];
    for (const [id, revision] of await readRevisions(deps.store, partition, Number(shard)))
      current.set(id, revision);
  }
  const wanted = [...refs.values()].filter((ref) => (current.get(ref.id) ?? -1) < ref.revision);
  if (wouldOverrun(context, wanted.length)) return 'not begun';
  report.tracesAlreadyCurrent += refs.size - wanted.length;
  if (wanted.length === 0) return;

  const rows: TraceRows[] = [];
  const exportedAt = Date.now();
  const { unprocessed } = await fetchTraces(
    deps.source,
    wanted.map((ref) => ref.id),
    async (trace) => {
      const converted = await convert(context, trace, refs.get(trace.id), exportedAt);
      if (converted) rows.push(converted);
    },
    fetchOptions,
    stats,
  );
  report.unprocessedTraceIds.push(...unprocessed);

  const merged = await mergeIntoHourFiles(deps.store, rows, {
    shards: context.shards,
    ...(context.options.now && { now: context.options.now }),
  });
  report.tracesExported += merged.written;
  report.tracesAlreadyCurrent += merged.unchanged;
  report.segmentsWritten += merged.segments;
  report.filesWritten += merged.filesWritten;
  report.bytesWritten += merged.bytesWritten;
  report.writeConflicts += merged.conflicts;
  report.tracesMoved += merged.moved;
  report.tracesWithdrawn += merged.withdrawn;
  context.pace ??= { ms: 0, traces: 0 };
  context.pace.ms += Date.now() - started;
  context.pace.traces += wanted.length;
  return undefined;
}

async function convert(
  context: UnitContext,
  trace: RawTrace,
  ref: TraceRef | undefined,
  exportedAt: number,
): Promise<TraceRows | undefined> {
  const { report } = context;
  const documents: SegmentDocument[] = [];
  const bad: QuarantinedDocument[] = [];
  for (const { id, text } of trace.documents) {
    const parsed = parseSegmentDocument(text);
    if (parsed.ok && parsed.document.trace_id === trace.id) documents.push(parsed.document);
    else
      bad.push({
        traceId: trace.id,
        documentId: id,
        problems: parsed.ok ? [`trace_id: ${parsed.document.trace_id} is not ${trace.id}`] : parsed.problems,
        document: text,
      });
  }
  if (trace.limitExceeded) report.limitExceededTraces++;
  const startMs = Math.round((ref?.startTime ?? documents[0]?.start_time ?? Date.now() / 1000) * 1000);
  if (bad.length > 0) {
    report.quarantinedDocuments += bad.length;
    report.quarantinedTraces.push(trace.id);
    await quarantine(
      context.deps.store,
      startMs,
      bad,
      new Date(exportedAt).toISOString(),
      context.options.redact !== undefined,
    );
  }
  if (documents.length === 0) return undefined;
  const assembled = assembleTrace(trace.id, documents);
  const summary = summarizeTrace(assembled, ref?.revision ?? 0);
  return traceToRows(assembled, summary, {
    exportedAt,
    limitExceeded: trace.limitExceeded,
    ...(context.options.redact && { redact: context.options.redact }),
  });
}
