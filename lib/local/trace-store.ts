import { type AssembledTrace, assembleTrace, isInProgress } from '../xray/assemble.js';
import { RETENTION_DAYS, TRACE_DOCUMENT_MAX_BYTES } from '../xray/limits.js';
import { summarizeTrace } from '../xray/summary.js';
import type { ApiTraceSummary, SegmentDocument } from '../xray/types.js';
import { parseSegmentDocument } from '../xray/validate.js';
import type { TraceSnapshot } from './segment-log.js';

/** Which time GetTraceSummaries' window applies to (API reference, `TimeRangeType`). */
export const TIME_RANGE_TYPES = ['TraceId', 'Event', 'Service'] as const;
export type TimeRangeType = (typeof TIME_RANGE_TYPES)[number];

const SECONDS_PER_DAY = 86_400;
/** Index granularity. A minute keeps a day's scan at 1,440 map lookups and a bucket small. */
const BUCKET_SECONDS = 60;

/**
 * One stored trace. Documents are kept as compact JSON text, not objects: text costs one byte a character
 * in V8 and nothing to the garbage collector's traversal, which is what holds a million segments in the
 * memory target. Summaries are computed when asked for, never cached, for the same reason.
 */
interface StoredTrace {
  readonly id: string;
  /** Document id -> [text, in progress]; insertion order is arrival order. */
  readonly documents: Map<string, { text: string; inProgress: boolean }>;
  bytes: number;
  limitExceeded: boolean;
  revision: number;
  /** TraceId time: the earliest start_time of any document. */
  startTime: number;
  /** Event time: when the trace last changed (the service's clock). */
  updatedAt: number;
  /** Service time: the latest end_time of any document. */
  endTime: number;
}

/** A window of a time index, most recent first, resumable after `(time, id)`. */
export interface ScanCursor {
  time: number;
  id: string;
}

/** Keeps trace ids in minute buckets by one of their times, so a window scan touches only its minutes. */
class TimeIndex {
  private readonly buckets = new Map<number, Set<string>>();
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  add(id: string, time: number): void {
    const bucket = Math.floor(time / BUCKET_SECONDS);
    let ids = this.buckets.get(bucket);
    if (!ids) {
      ids = new Set();
      this.buckets.set(bucket, ids);
      this.min = Math.min(this.min, bucket);
      this.max = Math.max(this.max, bucket);
    }
    ids.add(id);
  }

  remove(id: string, time: number): void {
    const bucket = Math.floor(time / BUCKET_SECONDS);
    const ids = this.buckets.get(bucket);
    if (!ids) return;
    ids.delete(id);
    if (ids.size === 0) this.buckets.delete(bucket);
  }

  move(id: string, from: number, to: number): void {
    if (Math.floor(from / BUCKET_SECONDS) === Math.floor(to / BUCKET_SECONDS)) return;
    this.remove(id, from);
    this.add(id, to);
  }

  /** Ids whose bucket overlaps [from, to], newest bucket first. */
  *bucketsDescending(from: number, to: number): Generator<Set<string>> {
    const first = Math.max(Math.floor(from / BUCKET_SECONDS), this.min);
    for (let bucket = Math.min(Math.floor(to / BUCKET_SECONDS), this.max); bucket >= first; bucket--) {
      const ids = this.buckets.get(bucket);
      if (ids) yield ids;
    }
  }
}

/**
 * What became of one document offered to the store. `limit-reached`: dropped, and with it the trace has just
 * reached the size limit (later ones are `dropped-limit`), which is when a persisted log records the flag.
 */
export type PutOutcome = 'stored' | 'limit-reached' | 'dropped-limit' | 'expired';

export interface TraceStoreOptions {
  /** The service's clock, epoch seconds. */
  now?: () => number;
  retentionDays?: number;
}

/** Counts the service exposes for tests and benchmarks. */
export interface TraceStoreStats {
  traces: number;
  documents: number;
  bytes: number;
}

/**
 * The local X-Ray service's storage: traces by id, three time indexes (TraceId, Event, Service), revisions,
 * the 500 KB trace limit and the 30-day retention, all as X-Ray applies them.
 */
export class TraceStore {
  private readonly traces = new Map<string, StoredTrace>();
  private readonly byStart = new TimeIndex();
  private readonly byUpdate = new TimeIndex();
  private readonly byEnd = new TimeIndex();
  private readonly now: () => number;
  private readonly retentionSeconds: number;
  private documentCount = 0;
  private byteCount = 0;

  constructor(options: TraceStoreOptions = {}) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.retentionSeconds = (options.retentionDays ?? RETENTION_DAYS) * SECONDS_PER_DAY;
  }

  /**
   * Adds one validated document (`text` is its compact JSON). `receivedAt` defaults to the clock; replaying
   * a persisted log passes the original time so Event times survive restarts.
   */
  put(document: SegmentDocument, text: string, receivedAt = this.now()): PutOutcome {
    if (document.start_time < this.now() - this.retentionSeconds) return 'expired';
    let trace = this.traces.get(document.trace_id);
    if (!trace) {
      trace = {
        id: document.trace_id,
        documents: new Map(),
        bytes: 0,
        limitExceeded: false,
        revision: 0,
        startTime: document.start_time,
        updatedAt: receivedAt,
        endTime: document.end_time ?? document.start_time,
      };
      this.traces.set(trace.id, trace);
      this.byStart.add(trace.id, trace.startTime);
      this.byUpdate.add(trace.id, trace.updatedAt);
      this.byEnd.add(trace.id, trace.endTime);
    }

    const inProgress = isInProgress(document);
    const previous = trace.documents.get(document.id);
    // The SDKs send in-progress first and complete last; a late in-progress copy must not undo completion.
    if (previous && inProgress && !previous.inProgress) return 'stored';
    const added = text.length - (previous?.text.length ?? 0);
    if (trace.bytes + added > TRACE_DOCUMENT_MAX_BYTES) {
      if (trace.limitExceeded) return 'dropped-limit';
      trace.limitExceeded = true;
      return 'limit-reached';
    }
    trace.documents.set(document.id, { text, inProgress });
    trace.bytes += added;
    this.byteCount += added;
    if (!previous) this.documentCount++;
    trace.revision++;

    const start = Math.min(trace.startTime, document.start_time);
    const end = Math.max(trace.endTime, document.end_time ?? document.start_time);
    this.byStart.move(trace.id, trace.startTime, start);
    this.byUpdate.move(trace.id, trace.updatedAt, receivedAt);
    this.byEnd.move(trace.id, trace.endTime, end);
    trace.startTime = start;
    trace.updatedAt = receivedAt;
    trace.endTime = end;
    return 'stored';
  }

  /** Flags a known trace `LimitExceeded` (a persisted log's mark, replayed). */
  markLimitExceeded(traceId: string): void {
    const trace = this.traces.get(traceId);
    if (trace) trace.limitExceeded = true;
  }

  /** Every live trace whole, revision and event time included: what a log compaction writes. */
  snapshots(): TraceSnapshot[] {
    const snapshots: TraceSnapshot[] = [];
    for (const trace of this.traces.values()) {
      if (!this.live(trace.id)) continue;
      snapshots.push({
        id: trace.id,
        revision: trace.revision,
        updatedAt: trace.updatedAt,
        limitExceeded: trace.limitExceeded,
        documents: [...trace.documents.values()].map(({ text }) => text),
      });
    }
    return snapshots;
  }

  /**
   * Rebuilds a trace from its snapshot as it was, revision included (putting its documents one by one would
   * count a revision each, fewer than the trace had). Documents past retention by now are left out, as put
   * leaves them; a document that no longer validates is skipped. Returns how many documents were stored.
   */
  restore(snapshot: TraceSnapshot): number {
    let stored = 0;
    for (const text of snapshot.documents) {
      const parsed = parseSegmentDocument(text);
      if (parsed.ok && this.put(parsed.document, text, snapshot.updatedAt) === 'stored') stored++;
    }
    const trace = this.traces.get(snapshot.id);
    if (trace) {
      trace.revision = Math.max(trace.revision, snapshot.revision);
      trace.limitExceeded ||= snapshot.limitExceeded;
    }
    return stored;
  }

  /** The trace's documents, parsed, in arrival order; undefined when unknown or expired. */
  documents(traceId: string): { documents: SegmentDocument[]; limitExceeded: boolean } | undefined {
    const trace = this.live(traceId);
    if (!trace) return undefined;
    const documents = [...trace.documents.values()].map(({ text }) => JSON.parse(text) as SegmentDocument);
    return { documents, limitExceeded: trace.limitExceeded };
  }

  /** The trace assembled as BatchGetTraces serves it. */
  assembled(traceId: string): (AssembledTrace & { limitExceeded: boolean }) | undefined {
    const stored = this.documents(traceId);
    if (!stored) return undefined;
    return { ...assembleTrace(traceId, stored.documents), limitExceeded: stored.limitExceeded };
  }

  /** The trace's summary, with its revision and the time the window matched on. */
  summary(traceId: string, timeRangeType: TimeRangeType = 'TraceId'): ApiTraceSummary | undefined {
    const trace = this.live(traceId);
    const assembled = this.assembled(traceId);
    if (!trace || !assembled) return undefined;
    const summary = summarizeTrace(assembled, trace.revision);
    if (timeRangeType !== 'TraceId') summary.MatchedEventTime = this.timeOf(trace, timeRangeType);
    return summary;
  }

  /**
   * Trace ids whose `timeRangeType` time lies in [from, to], most recent first (ties by id), starting
   * after `cursor`. Yields `[id, time]`; expired traces are skipped.
   */
  *scan(
    from: number,
    to: number,
    timeRangeType: TimeRangeType,
    cursor?: ScanCursor,
  ): Generator<[string, number]> {
    const index =
      timeRangeType === 'TraceId' ? this.byStart : timeRangeType === 'Event' ? this.byUpdate : this.byEnd;
    const upper = cursor ? Math.min(to, cursor.time) : to;
    for (const ids of index.bucketsDescending(from, upper)) {
      const entries: [string, number][] = [];
      for (const id of ids) {
        const trace = this.live(id);
        if (!trace) continue;
        const time = this.timeOf(trace, timeRangeType);
        if (time < from || time > to) continue;
        if (cursor && (time > cursor.time || (time === cursor.time && id <= cursor.id))) continue;
        entries.push([id, time]);
      }
      entries.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      yield* entries;
    }
  }

  /** Drops every trace past retention. Returns how many went. */
  expire(): number {
    const horizon = this.now() - this.retentionSeconds;
    let removed = 0;
    for (const trace of this.traces.values()) {
      if (trace.startTime >= horizon) continue;
      this.traces.delete(trace.id);
      this.byStart.remove(trace.id, trace.startTime);
      this.byUpdate.remove(trace.id, trace.updatedAt);
      this.byEnd.remove(trace.id, trace.endTime);
      this.documentCount -= trace.documents.size;
      this.byteCount -= trace.bytes;
      removed++;
    }
    return removed;
  }

  stats(): TraceStoreStats {
    return { traces: this.traces.size, documents: this.documentCount, bytes: this.byteCount };
  }

  private live(traceId: string): StoredTrace | undefined {
    const trace = this.traces.get(traceId);
    if (!trace || trace.startTime < this.now() - this.retentionSeconds) return undefined;
    return trace;
  }

  private timeOf(trace: StoredTrace, type: TimeRangeType): number {
    return type === 'TraceId' ? trace.startTime : type === 'Event' ? trace.updatedAt : trace.endTime;
  }
}
