import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { entityOwners } from '../xray/assemble.js';
import { parseDaemonDatagram } from '../xray/daemon.js';
import { FilterExpressionError } from '../xray/errors.js';
import { compileFilter, type TraceFilter } from '../xray/filter.js';
import { BATCH_GET_TRACES_MAX_IDS } from '../xray/limits.js';
import { serviceIdOf } from '../xray/summary.js';
import type { ApiTraceSummary, SegmentDocument } from '../xray/types.js';
import { parseSegmentDocument } from '../xray/validate.js';
import { invalidRequest, LocalServiceError, throttled, XRayApiError } from './errors.js';
import { type ApiOperation, DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from './rate-limit.js';
import { SegmentLog } from './segment-log.js';
import { type ScanCursor, TIME_RANGE_TYPES, type TimeRangeType, TraceStore } from './trace-store.js';

/**
 * X-Ray does not document its page size; pages here hold at most 100 summaries so that clients must
 * follow `NextToken`, as they must against the real service.
 */
export const SUMMARIES_PAGE_SIZE = 100;
/** A filtered page stops after scanning this many traces and hands back a NextToken, even if short or empty. */
export const SUMMARIES_SCAN_PER_PAGE = 2_000;
/**
 * The `--data` log is compacted (rewritten from the live traces) once it holds at least this many documents
 * that are no longer live (replaced in-progress copies, traces past retention) and more of them than live
 * ones: its size then stays within about twice what the live traces need, and small logs are left alone.
 */
export const LOG_COMPACT_MIN_DEAD_RECORDS = 10_000;
/** Receive buffer asked of the kernel for the daemon socket. */
const UDP_RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;
/** Request bodies past this are refused; PutTraceSegments of 50 documents of 64 KB fits well below it. */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** restJson1 routes: the X-Ray model's `@http` paths (every operation is a POST). */
const ROUTES: Readonly<Record<string, ApiOperation>> = {
  '/TraceSegments': 'PutTraceSegments',
  '/TraceSummaries': 'GetTraceSummaries',
  '/Traces': 'BatchGetTraces',
  '/ServiceGraph': 'GetServiceGraph',
};

/** Options of `xray-lake xray-local`, already validated. */
export interface LocalXRayOptions {
  host?: string;
  /** 0 picks a free port (tests); HTTP and UDP then share the number HTTP got. */
  port?: number;
  /** A folder whose segment log survives restarts; in memory when absent. */
  dataDir?: string;
  /** See {@link LOG_COMPACT_MIN_DEAD_RECORDS}. */
  logCompactMinDeadRecords?: number;
  rateLimits?: RateLimits;
  /** Fraction of calls answered with ThrottledException (429) on top of the rate limits. */
  throttleRate?: number;
  /** Fraction of calls answered with a 5xx. */
  errorRate?: number;
  /** Added to every response. */
  latencyMs?: number;
  retentionDays?: number;
  /** The service's clock, epoch seconds. */
  now?: () => number;
  /** Source of randomness for fault injection, so tests can be exact. */
  random?: () => number;
  /** Receives the service's events; `level` is `info` unless the event says something failed or was refused. */
  log?: (event: string, fields: Record<string, unknown>, level: LogLevel) => void;
}

/** How much an event of the service matters to whoever reads its log. */
export type LogLevel = 'info' | 'warn' | 'error';

/** Counts of what the service did, for tests, benchmarks and the demo's progress. */
export interface LocalXRayStats {
  requests: Partial<Record<ApiOperation, number>>;
  throttled: number;
  injectedErrors: number;
  udpDatagrams: number;
  rejectedDocuments: number;
  traces: number;
  documents: number;
  bytes: number;
}

/**
 * A local X-Ray: the read and write APIs over HTTP (restJson1, so the AWS SDKs and CLI work against it with
 * an endpoint override) and the daemon protocol over UDP on the same port number.
 */
export class LocalXRayService {
  readonly store: TraceStore;
  private readonly limiter: RateLimiter;
  private readonly random: () => number;
  private readonly log: (event: string, fields: Record<string, unknown>, level?: LogLevel) => void;
  private http?: Server;
  private udp?: Socket;
  private segmentLog?: SegmentLog;
  private compacting?: Promise<void>;
  private expiryTimer?: NodeJS.Timeout;
  private readonly counters: Omit<LocalXRayStats, 'traces' | 'documents' | 'bytes'> = {
    requests: {},
    throttled: 0,
    injectedErrors: 0,
    udpDatagrams: 0,
    rejectedDocuments: 0,
  };

  constructor(private readonly options: LocalXRayOptions = {}) {
    const storeOptions = {
      ...(options.now && { now: options.now }),
      ...(options.retentionDays !== undefined && { retentionDays: options.retentionDays }),
    };
    this.store = new TraceStore(storeOptions);
    this.limiter = new RateLimiter(options.rateLimits ?? DEFAULT_RATE_LIMITS);
    this.random = options.random ?? Math.random;
    const log = options.log;
    this.log = log ? (event, fields, level = 'info') => log(event, fields, level) : () => {};
  }

  /** Starts HTTP and UDP; resolves with the endpoint URL once both listen. */
  async start(): Promise<{ endpoint: string; port: number }> {
    const host = this.options.host ?? '127.0.0.1';
    if (this.options.dataDir) {
      this.segmentLog = new SegmentLog(this.options.dataDir, (error) =>
        this.log(
          'data-log-failed',
          {
            error: error.message,
            note: 'serving from memory: documents from now on are not kept across a restart',
          },
          'error',
        ),
      );
      const replayed = await this.segmentLog.replay({
        document: (text, receivedAt) => {
          const parsed = parseSegmentDocument(text);
          if (parsed.ok) this.store.put(parsed.document, text, receivedAt);
        },
        limitExceeded: (traceId) => this.store.markLimitExceeded(traceId),
        trace: (snapshot) => this.store.restore(snapshot),
      });
      this.log('replayed', {
        dataDir: this.options.dataDir,
        replayedLines: replayed.lines,
        skippedLines: replayed.skipped,
        ...this.store.stats(),
      });
      await this.compactLog();
    }

    this.http = createServer((request, response) => void this.handle(request, response));
    this.http.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      this.http!.once('error', (error) => reject(listenError(error, host, this.options.port ?? 0, 'TCP')));
      this.http!.listen(this.options.port ?? 0, host, resolve);
    });
    const port = (this.http.address() as AddressInfo).port;

    this.udp = createSocket('udp4');
    this.udp.on('message', (message) => this.receiveDatagram(message));
    await new Promise<void>((resolve, reject) => {
      this.udp!.once('error', (error) => reject(listenError(error, host, port, 'UDP')));
      this.udp!.bind(port, host, resolve);
    });
    try {
      // Bursts from many SDKs arrive faster than one event loop drains them; a larger buffer absorbs them.
      // The kernel caps it at net.core.rmem_max, silently, which is fine: best effort, like the daemon.
      this.udp.setRecvBufferSize(UDP_RECEIVE_BUFFER_BYTES);
    } catch {
      // Not permitted here: keep the system default.
    }
    this.expiryTimer = setInterval(() => {
      this.store.expire();
      void this.compactLog().catch((error: unknown) =>
        this.log('log-compaction-failed', { error: String(error) }, 'error'),
      );
    }, 60_000).unref();
    return { endpoint: `http://${host}:${port}`, port };
  }

  /**
   * Rewrites the `--data` log from the live traces when most of what it holds is dead (see
   * {@link LOG_COMPACT_MIN_DEAD_RECORDS}); resolves at once otherwise. Runs at start and after each expiry.
   */
  async compactLog(): Promise<boolean> {
    const log = this.segmentLog;
    if (!log || log.failed || this.compacting) return false;
    const live = this.store.stats().documents;
    const dead = log.records - live;
    const minimum = this.options.logCompactMinDeadRecords ?? LOG_COMPACT_MIN_DEAD_RECORDS;
    if (dead < minimum || dead <= live) return false;
    const started = Date.now();
    this.compacting = log.compact(this.store.snapshots());
    try {
      await this.compacting;
    } finally {
      this.compacting = undefined;
    }
    this.log('log-compacted', {
      path: log.path,
      droppedRecords: dead,
      liveDocuments: live,
      ms: Date.now() - started,
    });
    return true;
  }

  /** Stops listening and flushes the segment log. */
  async stop(): Promise<void> {
    clearInterval(this.expiryTimer);
    await this.compacting?.catch(() => {});
    await Promise.all([
      new Promise<void>((resolve) => (this.udp ? this.udp.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => {
        if (!this.http) return resolve();
        this.http.close(() => resolve());
        this.http.closeAllConnections();
      }),
    ]);
    await this.segmentLog?.close();
  }

  stats(): LocalXRayStats {
    return { ...this.counters, requests: { ...this.counters.requests }, ...this.store.stats() };
  }

  /** Accepts documents as PutTraceSegments does; shared by HTTP, UDP and in-process callers. */
  putDocuments(texts: readonly unknown[]): { Id?: string; ErrorCode: string; Message: string }[] {
    const unprocessed: { Id?: string; ErrorCode: string; Message: string }[] = [];
    for (const raw of texts) {
      if (typeof raw !== 'string') {
        unprocessed.push({
          ErrorCode: 'InvalidSegment',
          Message: 'Invalid segment. Each document must be a string',
        });
        continue;
      }
      const parsed = parseSegmentDocument(raw);
      if (!parsed.ok) {
        this.counters.rejectedDocuments++;
        const code = parsed.problems.some((problem) => problem.startsWith('trace_id'))
          ? 'InvalidTraceId'
          : 'InvalidSegment';
        const entry: { Id?: string; ErrorCode: string; Message: string } = {
          ErrorCode: code,
          Message: `Invalid segment. ErrorCode: ${code}. ${parsed.problems.join('; ')}`,
        };
        const id = /"id"\s*:\s*"([^"]*)"/.exec(raw)?.[1];
        if (id !== undefined) entry.Id = id;
        unprocessed.push(entry);
        continue;
      }
      // Stored as sent (senders emit compact JSON); re-serializing would cost a quarter of ingest time.
      const text = raw.trim();
      const receivedAt = (this.options.now ?? (() => Date.now() / 1000))();
      const outcome = this.store.put(parsed.document, text, receivedAt);
      if (outcome === 'stored') this.segmentLog?.append(text, receivedAt);
      else if (outcome === 'limit-reached') this.segmentLog?.appendLimitExceeded(parsed.document.trace_id);
    }
    return unprocessed;
  }

  private receiveDatagram(message: Buffer): void {
    this.counters.udpDatagrams++;
    const datagram = parseDaemonDatagram(message);
    if (!datagram.ok) {
      this.counters.rejectedDocuments++;
      this.log('udp-rejected', { problem: datagram.problem }, 'warn');
      return;
    }
    const unprocessed = this.putDocuments([datagram.document]);
    if (unprocessed.length > 0) this.log('udp-rejected', { problem: unprocessed[0]!.Message }, 'warn');
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const operation = ROUTES[path];
    try {
      if (request.method !== 'POST' || !operation) {
        if (request.method === 'GET' && path === '/_local/stats') return send(response, 200, this.stats());
        throw new XRayApiError(
          'UnknownOperationException',
          404,
          `No X-Ray operation at ${request.method} ${path}`,
        );
      }
      this.counters.requests[operation] = (this.counters.requests[operation] ?? 0) + 1;
      const body = await readJson(request);
      if (this.options.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
      this.injectFaults(operation, body);
      send(response, 200, this.dispatch(operation, body));
    } catch (error) {
      if (error instanceof XRayApiError) {
        if (error.errorType === 'ThrottledException') this.counters.throttled++;
        response.setHeader('x-amzn-ErrorType', error.errorType);
        return send(response, error.status, { Message: error.message, message: error.message });
      }
      this.log('internal-error', { operation, error: String(error) }, 'error');
      response.setHeader('x-amzn-ErrorType', 'InternalFailure');
      send(response, 500, { Message: 'Internal failure' });
    }
  }

  private injectFaults(operation: ApiOperation, body: Record<string, unknown>): void {
    const cost =
      operation === 'PutTraceSegments' && Array.isArray(body.TraceSegmentDocuments)
        ? body.TraceSegmentDocuments.length
        : 1;
    if (!this.limiter.take(operation, cost)) throw throttled();
    if (this.options.throttleRate && this.random() < this.options.throttleRate)
      throw throttled('Rate exceeded (injected)');
    if (this.options.errorRate && this.random() < this.options.errorRate) {
      this.counters.injectedErrors++;
      throw new XRayApiError('ServiceUnavailableException', 503, 'Service unavailable (injected)');
    }
  }

  private dispatch(operation: ApiOperation, body: Record<string, unknown>): unknown {
    switch (operation) {
      case 'PutTraceSegments': {
        if (!Array.isArray(body.TraceSegmentDocuments))
          throw invalidRequest('TraceSegmentDocuments: required, a list of segment document strings');
        return { UnprocessedTraceSegments: this.putDocuments(body.TraceSegmentDocuments) };
      }
      case 'GetTraceSummaries':
        return this.getTraceSummaries(body);
      case 'BatchGetTraces':
        return this.batchGetTraces(body);
      case 'GetServiceGraph':
        return this.getServiceGraph(body);
    }
  }

  private getTraceSummaries(body: Record<string, unknown>) {
    const { from, to } = timeWindow(body);
    const type = (body.TimeRangeType ?? 'TraceId') as TimeRangeType;
    if (!TIME_RANGE_TYPES.includes(type))
      throw invalidRequest(
        `TimeRangeType: expected one of ${TIME_RANGE_TYPES.join(', ')}, got ${JSON.stringify(type)}`,
      );
    const expression = typeof body.FilterExpression === 'string' ? body.FilterExpression.trim() : '';
    let filter: TraceFilter | undefined;
    try {
      filter = expression ? compileFilter(expression) : undefined;
    } catch (error) {
      if (error instanceof FilterExpressionError) throw invalidRequest(error.message);
      throw error;
    }
    const query = createHash('sha1')
      .update(JSON.stringify([from, to, type, expression]))
      .digest('hex')
      .slice(0, 12);
    const cursor =
      typeof body.NextToken === 'string' && body.NextToken ? decodeToken(body.NextToken, query) : undefined;

    const summaries: ApiTraceSummary[] = [];
    let scanned = 0;
    let last: ScanCursor | undefined;
    let more = false;
    for (const [id, time] of this.store.scan(from, to, type, cursor)) {
      if (summaries.length >= SUMMARIES_PAGE_SIZE || scanned >= SUMMARIES_SCAN_PER_PAGE) {
        more = true;
        break;
      }
      scanned++;
      last = { time, id };
      const summary = this.store.summary(id, type);
      if (summary && (!filter || filter(summary))) summaries.push(summary);
    }
    const result: Record<string, unknown> = {
      TraceSummaries: summaries,
      ApproximateTime: last?.time ?? to,
      TracesProcessedCount: scanned,
    };
    if (more && last) result.NextToken = encodeToken(last, query);
    return result;
  }

  private batchGetTraces(body: Record<string, unknown>) {
    const ids = body.TraceIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string'))
      throw invalidRequest('TraceIds: required, a list of 1 to 5 trace ids');
    if (ids.length > BATCH_GET_TRACES_MAX_IDS)
      throw invalidRequest(
        `Exceeding maximum query size: ${BATCH_GET_TRACES_MAX_IDS} (got ${ids.length} TraceIds)`,
      );
    const traces: unknown[] = [];
    const unprocessed: string[] = [];
    for (const id of ids as string[]) {
      const assembled = this.store.assembled(id);
      if (!assembled) {
        unprocessed.push(id);
        continue;
      }
      const documents: SegmentDocument[] = [
        ...assembled.segments,
        ...assembled.orphans,
        ...assembled.inferred,
      ];
      const start = Math.min(...documents.map((d) => d.start_time));
      const end = Math.max(...documents.map((d) => d.end_time ?? d.start_time));
      traces.push({
        Id: id,
        Duration: Math.round((end - start) * 1e6) / 1e6,
        LimitExceeded: assembled.limitExceeded,
        Segments: documents.map((document) => ({ Id: document.id, Document: JSON.stringify(document) })),
      });
    }
    return { Traces: traces, UnprocessedTraceIds: unprocessed };
  }

  /** Nodes and edges between services over a window, with X-Ray's summary statistics (the cheap subset). */
  private getServiceGraph(body: Record<string, unknown>) {
    const { from, to } = timeWindow(body);
    type Stats = { ok: number; error: number; fault: number; throttle: number; total: number; time: number };
    const fresh = (): Stats => ({ ok: 0, error: 0, fault: 0, throttle: 0, total: 0, time: 0 });
    const nodes = new Map<
      string,
      { id: ReturnType<typeof serviceIdOf>; stats: Stats; edges: Map<string, Stats> }
    >();
    const record = (stats: Stats, segment: SegmentDocument) => {
      stats.total++;
      stats.time += (segment.end_time ?? segment.start_time) - segment.start_time;
      if (segment.fault) stats.fault++;
      else if (segment.error) stats.error++;
      else stats.ok++;
      if (segment.throttle) stats.throttle++;
    };
    for (const [id] of this.store.scan(from, to, 'TraceId')) {
      const trace = this.store.assembled(id);
      if (!trace) continue;
      const all = [...trace.segments, ...trace.inferred];
      const ownerOf = entityOwners(all);
      for (const segment of all) {
        const sid = serviceIdOf(segment);
        const key = `${sid.Name}|${sid.Type ?? ''}`;
        const node = nodes.get(key) ?? { id: sid, stats: fresh(), edges: new Map() };
        nodes.set(key, node);
        record(node.stats, segment);
        const caller = segment.parent_id ? ownerOf.get(segment.parent_id) : undefined;
        if (caller && caller !== segment) {
          const cid = serviceIdOf(caller);
          const callerKey = `${cid.Name}|${cid.Type ?? ''}`;
          const callerNode = nodes.get(callerKey) ?? { id: cid, stats: fresh(), edges: new Map() };
          nodes.set(callerKey, callerNode);
          const edge = callerNode.edges.get(key) ?? fresh();
          callerNode.edges.set(key, edge);
          record(edge, segment);
        }
      }
    }
    const refs = new Map([...nodes.keys()].map((key, index) => [key, index]));
    const statistics = (s: Stats) => ({
      OkCount: s.ok,
      ErrorStatistics: { ThrottleCount: s.throttle, OtherCount: s.error - s.throttle, TotalCount: s.error },
      FaultStatistics: { OtherCount: s.fault, TotalCount: s.fault },
      TotalCount: s.total,
      TotalResponseTime: Math.round(s.time * 1e6) / 1e6,
    });
    return {
      StartTime: from,
      EndTime: to,
      Services: [...nodes].map(([key, node]) => ({
        ReferenceId: refs.get(key),
        Name: node.id.Name,
        Names: node.id.Names,
        ...(node.id.Type && { Type: node.id.Type }),
        StartTime: from,
        EndTime: to,
        SummaryStatistics: statistics(node.stats),
        Edges: [...node.edges].map(([target, stats]) => ({
          ReferenceId: refs.get(target),
          StartTime: from,
          EndTime: to,
          SummaryStatistics: statistics(stats),
        })),
      })),
      ContainsOldGroupVersions: false,
    };
  }
}

function timeWindow(body: Record<string, unknown>): { from: number; to: number } {
  const from = body.StartTime;
  const to = body.EndTime;
  if (typeof from !== 'number' || !Number.isFinite(from))
    throw invalidRequest('StartTime: required, epoch seconds');
  if (typeof to !== 'number' || !Number.isFinite(to))
    throw invalidRequest('EndTime: required, epoch seconds');
  if (to < from) throw invalidRequest(`EndTime (${to}) is before StartTime (${from})`);
  return { from, to };
}

function encodeToken(cursor: ScanCursor, query: string): string {
  return Buffer.from(JSON.stringify({ t: cursor.time, i: cursor.id, q: query })).toString('base64url');
}

function decodeToken(token: string, query: string): ScanCursor {
  try {
    const { t, i, q } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      t: number;
      i: string;
      q: string;
    };
    if (typeof t !== 'number' || typeof i !== 'string') throw new Error('shape');
    if (q !== query)
      throw invalidRequest(
        'NextToken: belongs to a different query (window, TimeRangeType or filter changed)',
      );
    return { time: t, id: i };
  } catch (error) {
    if (error instanceof XRayApiError) throw error;
    throw invalidRequest('NextToken: not a token this service issued');
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw invalidRequest(`Request body over ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new XRayApiError('InvalidRequestException', 400, 'Request body is not a JSON object');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function listenError(error: Error & { code?: string }, host: string, port: number, protocol: string): Error {
  const reason =
    error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${error.code ?? error.message})`;
  return new LocalServiceError(`${protocol} ${host}:${port} ${reason}; choose another --port`, {
    cause: error,
  });
}
