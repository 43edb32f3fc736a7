/**
 * The lake's one schema module: row types, column names and Parquet column types of the `traces` and
 * `segments` tables (DESIGN.md, "The lake"), and the converters from an assembled X-Ray trace to rows.
 *
 * Row fields are the column names themselves (snake_case), so a row read back from Parquet by any engine
 * is the same object; there is no mapping layer to drift. Times are epoch milliseconds (Parquet
 * TIMESTAMP(MILLIS, UTC)); durations are seconds (DOUBLE), as X-Ray reports them.
 */
import type { AssembledTrace } from '../xray/assemble.js';
import { entityOwners, isInProgress } from '../xray/assemble.js';
import type { ApiTraceSummary, EntityFields, SegmentDocument } from '../xray/types.js';
import { RedactionError } from './errors.js';

/** The Parquet column types the lake uses; each maps to one physical + logical type (see parquet.ts). */
export const COLUMN_TYPES = [
  'string',
  'timestamp',
  'double',
  'int32',
  'int64',
  'boolean',
  'list<string>',
  'map<string,string>',
] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Whether the column may hold null. Lists and maps are never null: empty instead. */
  nullable: boolean;
}

const col = (name: string, type: ColumnType, nullable = false): ColumnSpec => ({ name, type, nullable });

/** `traces`: one row per trace. */
export const TRACE_COLUMNS = [
  col('trace_id', 'string'),
  col('start_time', 'timestamp'),
  col('end_time', 'timestamp'),
  col('duration', 'double'),
  col('response_time', 'double'),
  col('has_fault', 'boolean'),
  col('has_error', 'boolean'),
  col('has_throttle', 'boolean'),
  col('is_partial', 'boolean'),
  col('http_method', 'string', true),
  col('http_url', 'string', true),
  col('http_status', 'int32', true),
  col('entry_service', 'string', true),
  col('entry_service_type', 'string', true),
  col('services', 'list<string>'),
  col('annotations', 'map<string,string>'),
  col('users', 'list<string>'),
  col('fault_root_cause_service', 'string', true),
  col('error_root_cause_service', 'string', true),
  col('segment_count', 'int32'),
  col('revision', 'int64'),
  col('limit_exceeded', 'boolean'),
  col('exported_at', 'timestamp'),
] as const satisfies readonly ColumnSpec[];

/** `segments`: one row per segment, subsegment and inferred segment. */
export const SEGMENT_COLUMNS = [
  col('trace_id', 'string'),
  col('id', 'string'),
  col('parent_id', 'string', true),
  col('segment_id', 'string'),
  col('caller_service', 'string', true),
  col('kind', 'string'),
  col('depth', 'int32'),
  col('service', 'string'),
  col('name', 'string'),
  col('origin', 'string', true),
  col('namespace', 'string', true),
  col('start_time', 'timestamp'),
  col('end_time', 'timestamp', true),
  col('duration', 'double', true),
  col('in_progress', 'boolean'),
  col('fault', 'boolean'),
  col('error', 'boolean'),
  col('throttle', 'boolean'),
  col('http_method', 'string', true),
  col('http_url', 'string', true),
  col('http_status', 'int32', true),
  col('aws_operation', 'string', true),
  col('aws_resource', 'string', true),
  col('sql_database_type', 'string', true),
  col('cause_type', 'string', true),
  col('cause_message', 'string', true),
  col('annotations', 'map<string,string>'),
  col('metadata', 'string', true),
] as const satisfies readonly ColumnSpec[];

/** The two tables' names, also their folder names under the lake root. */
export const TABLES = { traces: 'traces', segments: 'segments' } as const;
export type TableName = keyof typeof TABLES;

/** Segment kinds as the `kind` column holds them. */
export const SEGMENT_KINDS = ['segment', 'subsegment', 'inferred'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface TraceRow {
  trace_id: string;
  start_time: number;
  end_time: number;
  duration: number;
  response_time: number;
  has_fault: boolean;
  has_error: boolean;
  has_throttle: boolean;
  is_partial: boolean;
  http_method: string | null;
  http_url: string | null;
  http_status: number | null;
  entry_service: string | null;
  entry_service_type: string | null;
  services: string[];
  annotations: Record<string, string>;
  users: string[];
  fault_root_cause_service: string | null;
  error_root_cause_service: string | null;
  segment_count: number;
  revision: number;
  limit_exceeded: boolean;
  exported_at: number;
}

export interface SegmentRow {
  trace_id: string;
  id: string;
  parent_id: string | null;
  segment_id: string;
  /**
   * For a segment or inferred segment: the service whose subsegment (or segment) called it, as on the
   * service map's edge. Computed at export, where the whole trace is at hand, so the views need no self-join
   * (which would double the bytes Athena scans). Null for subsegments and entry points.
   */
  caller_service: string | null;
  kind: SegmentKind;
  depth: number;
  service: string;
  name: string;
  origin: string | null;
  namespace: string | null;
  start_time: number;
  end_time: number | null;
  duration: number | null;
  in_progress: boolean;
  fault: boolean;
  error: boolean;
  throttle: boolean;
  http_method: string | null;
  http_url: string | null;
  http_status: number | null;
  aws_operation: string | null;
  aws_resource: string | null;
  sql_database_type: string | null;
  cause_type: string | null;
  cause_message: string | null;
  annotations: Record<string, string>;
  metadata: string | null;
}

/** Column specs by table. */
export const COLUMNS = { traces: TRACE_COLUMNS, segments: SEGMENT_COLUMNS } as const;

/** Rows of one trace for both tables. */
export interface TraceRows {
  trace: TraceRow;
  segments: SegmentRow[];
}

/**
 * A hook that sees every row before it is written, to drop or mask what must not reach the lake (trace
 * data can be personal: URLs, users, annotations, metadata). It returns the row to write.
 */
export interface Redactor {
  trace?: (row: TraceRow) => TraceRow;
  segment?: (row: SegmentRow) => SegmentRow;
}

/** Redactors known to keep every column's type (the rules of `parseRedaction`): their rows go unchecked. */
const typeSafeRedactors = new WeakSet<Redactor>();

/**
 * Marks `redactor` as returning rows of the right shape, so {@link traceToRows} does not check them. For
 * redactors built from rules that cannot change a type; checking costs about as much as building the rows
 * (~25 µs a trace of 18 segments, measured), 6% of the exporter's own path.
 */
export function typeSafeRedactor<R extends Redactor>(redactor: R): R {
  typeSafeRedactors.add(redactor);
  return redactor;
}

export interface ToRowsOptions {
  /** Epoch ms written to `exported_at`. */
  exportedAt: number;
  /** Whether X-Ray flagged the trace as over its size limit. */
  limitExceeded?: boolean;
  redact?: Redactor;
}

/** Trace → rows for `traces` and `segments`. Pure; the summary supplies X-Ray's own trace-level semantics. */
export function traceToRows(
  trace: AssembledTrace,
  summary: ApiTraceSummary,
  options: ToRowsOptions,
): TraceRows {
  const segments: SegmentRow[] = [];
  const documents: SegmentDocument[] = [...trace.segments, ...trace.orphans];
  const owners = entityOwners([...documents, ...trace.inferred]);
  const callerOf = (document: SegmentDocument) =>
    document.parent_id ? (owners.get(document.parent_id)?.name ?? null) : null;
  for (const document of documents)
    flatten(
      trace.id,
      document,
      document,
      0,
      document.type === 'subsegment' ? 'subsegment' : 'segment',
      segments,
      undefined,
      callerOf(document),
    );
  for (const inferred of trace.inferred)
    flatten(trace.id, inferred, inferred, 0, 'inferred', segments, undefined, callerOf(inferred));

  // The summary's entry point is its root segment's service (summary.ts), found there once.
  const entry = summary.EntryPoint;
  let end = -Infinity;
  for (const list of [documents, trace.inferred])
    for (const document of list) end = Math.max(end, document.end_time ?? document.start_time);
  const annotations: Record<string, string> = {};
  for (const [key, values] of Object.entries(summary.Annotations)) {
    const first = values[0]?.AnnotationValue;
    if (!first) continue;
    annotations[key] = String(first.StringValue ?? first.NumberValue ?? first.BooleanValue);
  }
  const firstCause = (causes: ApiTraceSummary['FaultRootCauses']) => causes[0]?.Services?.[0]?.Name ?? null;

  let row: TraceRow = {
    trace_id: trace.id,
    start_time: toMillis(summary.StartTime),
    end_time: toMillis(end),
    duration: summary.Duration,
    response_time: summary.ResponseTime,
    has_fault: summary.HasFault,
    has_error: summary.HasError,
    has_throttle: summary.HasThrottle,
    is_partial: summary.IsPartial,
    http_method: summary.Http.HttpMethod ?? null,
    http_url: summary.Http.HttpURL ?? null,
    http_status: summary.Http.HttpStatus ?? null,
    entry_service: entry?.Name ?? null,
    entry_service_type: entry?.Type ?? null,
    services: [...new Set(summary.ServiceIds.map((s) => s.Name!).filter(Boolean))].sort(),
    annotations,
    users: summary.Users.map((u) => u.UserName!).filter(Boolean),
    fault_root_cause_service: firstCause(summary.FaultRootCauses),
    error_root_cause_service: firstCause(summary.ErrorRootCauses),
    segment_count: segments.length,
    revision: summary.Revision,
    limit_exceeded: options.limitExceeded === true,
    exported_at: options.exportedAt,
  };
  let segmentRows = segments;
  const redact = options.redact;
  const check = redact !== undefined && !typeSafeRedactors.has(redact);
  if (redact?.trace) {
    // Copied before the call: a redactor may change the row it is given and return it.
    const original = { revision: row.revision, start_time: row.start_time, segment_count: row.segment_count };
    row = redact.trace(row);
    if (check) {
      checkRedacted('traces', TRACE_COLUMNS, row, trace.id);
      for (const column of MERGE_KEYS)
        if (row[column] !== original[column])
          throw new RedactionError(
            'traces',
            column,
            trace.id,
            `must stay ${original[column]} (the lake's merges rely on it), got ${String(row[column])}`,
          );
    }
  }
  if (redact?.segment) {
    segmentRows = segments.map(redact.segment);
    if (check)
      for (const redacted of segmentRows) checkRedacted('segments', SEGMENT_COLUMNS, redacted, trace.id);
  }
  return { trace: row, segments: segmentRows };
}

/**
 * Trace columns a redactor must leave alone besides the id: merges keep the newest revision, find a trace's
 * hour by its start, and tell a whole trace by its rows adding up to its segment count (a trace that does
 * not is taken out to be fetched again, lib/lake/hour-files.ts, so a changed count would be fetched for ever).
 */
const MERGE_KEYS = ['revision', 'start_time', 'segment_count'] as const;

const JS_TYPES: Record<ColumnType, string> = {
  string: 'string',
  timestamp: 'number',
  double: 'number',
  int32: 'number',
  int64: 'number',
  boolean: 'boolean',
  'list<string>': 'array',
  'map<string,string>': 'object',
};

/**
 * A redactor is user code: what it returns is checked against the table's columns here, where the error can
 * name the column and the trace, rather than deep inside the Parquet writer (a null `segment_id` there is
 * "deltaByteArray expects Uint8Array values"). Only redacted rows are checked, and not those of a
 * {@link typeSafeRedactor}; the converters' own rows are typed.
 */
function checkRedacted(
  table: 'traces' | 'segments',
  columns: readonly ColumnSpec[],
  row: TraceRow | SegmentRow,
  traceId: string,
): void {
  if (typeof row !== 'object' || row === null)
    throw new RedactionError(
      table,
      'row',
      traceId,
      `must be an object, got ${row === null ? 'null' : typeof row}`,
    );
  const values = row as unknown as Record<string, unknown>;
  if (values.trace_id !== traceId)
    throw new RedactionError(
      table,
      'trace_id',
      traceId,
      `must stay ${traceId}, got ${String(values.trace_id)}`,
    );
  for (const column of columns) {
    const value = values[column.name];
    if (value === null || value === undefined) {
      if (column.nullable) continue;
      throw new RedactionError(
        table,
        column.name,
        traceId,
        `is required (${column.type}), got ${String(value)}`,
      );
    }
    const actual = Array.isArray(value) ? 'array' : typeof value;
    if (actual !== JS_TYPES[column.type])
      throw new RedactionError(table, column.name, traceId, `must be ${column.type}, got ${actual}`);
    const members =
      actual === 'array' ? (value as unknown[]) : actual === 'object' ? Object.values(value) : [];
    const odd = members.findIndex((member) => typeof member !== 'string');
    if (odd !== -1)
      throw new RedactionError(
        table,
        column.name,
        traceId,
        `must be ${column.type}, holds ${String(members[odd])}`,
      );
  }
}

function flatten(
  traceId: string,
  entity: EntityFields,
  segment: SegmentDocument,
  depth: number,
  kind: SegmentKind,
  into: SegmentRow[],
  parentId?: string,
  callerService: string | null = null,
): void {
  const cause = typeof entity.cause === 'object' ? entity.cause.exceptions?.[0] : undefined;
  const aws = entity.aws;
  const resource =
    aws?.table_name ??
    aws?.queue_url ??
    (aws?.resource_names as string[] | undefined)?.[0] ??
    stringField(aws, 'topic_arn') ??
    stringField(aws, 'bucket_name') ??
    stringField(aws, 'function_name');
  const annotations: Record<string, string> = {};
  const recorded = entity.annotations;
  if (recorded) for (const key of Object.keys(recorded)) annotations[key] = String(recorded[key]);
  const status = entity.http?.response?.status;
  into.push({
    trace_id: traceId,
    id: entity.id,
    parent_id: parentId ?? (depth === 0 ? (segment.parent_id ?? null) : null),
    segment_id: segment.id,
    caller_service: depth === 0 && kind !== 'subsegment' ? callerService : null,
    kind: depth === 0 ? kind : 'subsegment',
    depth,
    service: segment.name,
    name: entity.name,
    origin: depth === 0 ? (segment.origin ?? null) : null,
    namespace: entity.namespace ?? null,
    start_time: toMillis(entity.start_time),
    end_time: entity.end_time === undefined ? null : toMillis(entity.end_time),
    duration:
      entity.end_time === undefined ? null : Math.round((entity.end_time - entity.start_time) * 1e6) / 1e6,
    in_progress: isInProgress(entity),
    fault: entity.fault === true,
    error: entity.error === true,
    throttle: entity.throttle === true,
    http_method: entity.http?.request?.method ?? null,
    http_url: entity.http?.request?.url ?? null,
    http_status: typeof status === 'number' ? status : null,
    aws_operation: aws?.operation ?? null,
    aws_resource: resource ?? null,
    sql_database_type: entity.sql?.database_type ?? null,
    cause_type: cause?.type ?? null,
    cause_message: cause?.message ?? null,
    annotations,
    metadata: entity.metadata === undefined ? null : JSON.stringify(entity.metadata),
  });
  for (const child of entity.subsegments ?? [])
    flatten(traceId, child, segment, depth + 1, kind, into, entity.id);
}

function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

/** Epoch seconds (X-Ray) → epoch milliseconds (the lake), rounded to the millisecond. */
export function toMillis(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** A trace's Hive partition: where its rows go in the lake. */
export interface Partition {
  readonly dt: string;
  readonly hour: string;
  readonly path: string;
}
// The exporter asks twice a trace, nearly always for the hour it asked last (a Date and its ISO string each
// time were ~1% of its own path).
let lastHour = Number.NaN;
let lastPartition: Partition | undefined;

/** The Hive partition of a trace: `dt=YYYY-MM-DD/hour=HH` of its start time, UTC. */
export function partitionOf(startTimeMs: number): Partition {
  const hourNumber = Math.floor(startTimeMs / 3_600_000);
  if (hourNumber === lastHour && lastPartition) return lastPartition;
  const iso = new Date(startTimeMs).toISOString();
  const dt = iso.slice(0, 10);
  const hour = iso.slice(11, 13);
  lastHour = hourNumber;
  lastPartition = Object.freeze({ dt, hour, path: `dt=${dt}/hour=${hour}` });
  return lastPartition;
}

/** Epoch ms at which a partition path (`dt=2026-11-20/hour=10`) starts: {@link partitionOf} read back. */
export function partitionStartMs(path: string): number {
  return Date.parse(path.replace(/^dt=(.*)\/hour=(\d{2})$/, '$1T$2:00:00Z'));
}
