import { once } from 'node:events';
import {
  appendFileSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  renameSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DataDirError, LocalServiceError } from './errors.js';

/** A whole trace as a compacted log keeps it: enough to rebuild it exactly, its revision included. */
export interface TraceSnapshot {
  id: string;
  /** GetTraceSummaries' `Revision`: the exporter fetches a trace again only when it grew, so it must not drop. */
  revision: number;
  /** Event time (when the trace last changed), which `TimeRangeType=Event` windows match on. */
  updatedAt: number;
  limitExceeded: boolean;
  /** The documents' compact JSON, in arrival order. */
  documents: string[];
}

/** What a replay hands back, one callback per kind of line. */
export interface LogReplayHandlers {
  /** An accepted document, with the service's clock when it arrived. */
  document(text: string, receivedAt: number): void;
  /** A trace that reached X-Ray's size limit (its dropped documents are not logged). */
  limitExceeded(traceId: string): void;
  /** A trace written whole by a compaction. */
  trace(snapshot: TraceSnapshot): void;
}

/** What a replay read. `records` counts documents (and limit marks): what compaction weighs against the live ones. */
export interface LogReplay {
  lines: number;
  records: number;
  /** Lines that could not be read (a line torn by a crash): skipped, not fatal. */
  skipped: number;
}

/**
 * The `--data DIR` persistence of xray-local: an append-only log, replayed at start. Appending is the
 * cheapest durable write. Three kinds of line, one JSON value each:
 *
 * - `[receivedAt, document]`: an accepted document (the first format; older logs hold only these);
 * - `{"limitExceeded": traceId}`: the trace reached 500 KB, so its `LimitExceeded` survives a restart;
 * - `{"trace": {...}}`: a {@link TraceSnapshot} written by {@link SegmentLog.compact}.
 *
 * Without compaction the log would only grow: every replaced in-progress document and every trace past
 * retention stays in it. A compaction rewrites it from the live traces (to a temporary file, then renamed
 * over, so a crash leaves the old log or the new one, never half of either) and keeps each trace's revision,
 * which a rewrite from documents alone would lower: the exporter would then skip a trace that grew after the
 * restart, taking its revision for one it already has.
 */
export class SegmentLog {
  readonly path: string;
  private stream?: WriteStream;
  /** Documents (and limit marks) the file holds, live or not. */
  private recordCount = 0;
  /** Set when a write failed: the log no longer follows the service (see {@link open}). */
  failed?: DataDirError;
  /** Lines appended while a compaction runs: they also go to the new file before it replaces the old. */
  private pending?: string[];
  private pendingRecords = 0;

  /**
   * @param onError told of a failed write (a full disk, say): the service keeps serving from memory, and
   *   says so, rather than crash on a stream error nobody listens to.
   */
  constructor(
    readonly dir: string,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new DataDirError(dir, `cannot create it (${(error as Error).message})`, { cause: error });
    }
    this.path = join(dir, 'segments.jsonl');
  }

  /** Documents (and limit marks) in the log, superseded and expired ones included. */
  get records(): number {
    return this.recordCount;
  }

  /** Feeds every logged line to its handler, in order. */
  async replay(handlers: LogReplayHandlers): Promise<LogReplay> {
    const result: LogReplay = { lines: 0, records: 0, skipped: 0 };
    if (!existsSync(this.path)) return result;
    const input = createReadStream(this.path, 'utf8');
    let readError: unknown;
    input.once('error', (error) => (readError = error));
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      for await (const line of lines) if (line) this.replayLine(line, handlers, result);
    } catch (error) {
      // A handler's own error is not the file's.
      if (error !== readError) throw error;
      throw new DataDirError(this.dir, `cannot read ${this.path} (${(error as Error).message})`, {
        cause: error,
      });
    }
    this.recordCount = result.records;
    return result;
  }

  private replayLine(line: string, handlers: LogReplayHandlers, result: LogReplay): void {
    result.lines++;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // A torn final line from an interrupted write.
      result.skipped++;
      return;
    }
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      handlers.document(value[1], value[0]);
      result.records++;
    } else if (isObject(value) && typeof value.limitExceeded === 'string') {
      handlers.limitExceeded(value.limitExceeded);
      result.records++;
    } else if (isObject(value) && isSnapshot(value.trace)) {
      handlers.trace(value.trace);
      result.records += value.trace.documents.length;
    } else result.skipped++;
  }

  append(text: string, receivedAt: number): void {
    this.write(`${JSON.stringify([receivedAt, text])}\n`);
  }

  /** Records that a trace reached the size limit. Log it once a trace: replay sets a flag. */
  appendLimitExceeded(traceId: string): void {
    this.write(`${JSON.stringify({ limitExceeded: traceId })}\n`);
  }

  /**
   * Rewrites the log as `snapshots` (the live traces, taken by the caller at one instant) followed by what
   * is appended meanwhile. Appends go on to the old file until the new one replaces it, so a crash at any
   * point loses nothing that was logged.
   */
  async compact(snapshots: readonly TraceSnapshot[]): Promise<void> {
    if (this.pending) throw new LocalServiceError(`${this.path}: a compaction is already running`);
    this.pending = [];
    this.pendingRecords = 0;
    const temporary = `${this.path}.compacting`;
    let records = 0;
    let out: WriteStream | undefined;
    try {
      out = createWriteStream(temporary, { flags: 'w' });
      for (const snapshot of snapshots) {
        records += snapshot.documents.length;
        if (!out.write(`${JSON.stringify({ trace: snapshot })}\n`)) await once(out, 'drain');
      }
      await endStream(out);
      // From here to the rename, synchronously: no append can fall between the two files.
      if (this.pending.length > 0) appendFileSync(temporary, this.pending.join(''));
      const fd = openSync(temporary, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, this.path);
      this.recordCount = records + this.pendingRecords;
    } catch (error) {
      if (out && !out.closed) {
        const closed = once(out, 'close');
        out.destroy();
        await closed;
      }
      rmSync(temporary, { force: true });
      throw error;
    } finally {
      this.pending = undefined;
    }
    // The old stream still points at the replaced file: later appends go to the new one.
    const old = this.stream;
    this.stream = undefined;
    if (old) await endStream(old);
  }

  /**
   * The append stream. A failed write (a full disk, say) is reported once; from then on nothing more is
   * appended (the service keeps serving from memory) and `failed` says why.
   */
  private open(): WriteStream {
    const stream = createWriteStream(this.path, { flags: 'a' });
    stream.once('error', (error) => {
      this.failed = new DataDirError(this.dir, `cannot write ${this.path} (${error.message})`, {
        cause: error,
      });
      this.onError(this.failed);
    });
    return stream;
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await endStream(stream);
  }

  private write(line: string): void {
    if (this.failed) return;
    this.stream ??= this.open();
    this.stream.write(line);
    this.recordCount++;
    if (this.pending) {
      this.pending.push(line);
      this.pendingRecords++;
    }
  }
}

function endStream(stream: WriteStream): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise<void>((resolve, reject) =>
    stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSnapshot(value: unknown): value is TraceSnapshot {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.revision === 'number' &&
    typeof value.updatedAt === 'number' &&
    typeof value.limitExceeded === 'boolean' &&
    Array.isArray(value.documents) &&
    value.documents.every((d) => typeof d === 'string')
  );
}
