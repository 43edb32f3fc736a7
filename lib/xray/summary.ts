import { type AssembledTrace, entityOwners, isInProgress } from './assemble.js';
import { INDEXED_ANNOTATIONS_PER_TRACE } from './limits.js';
import type {
  AnnotationValue,
  ApiAnnotationValue,
  ApiEntityPath,
  ApiRootCause,
  ApiServiceId,
  ApiTraceSummary,
  ApiValueWithServiceIds,
  EntityFields,
  SegmentDocument,
} from './types.js';

/** Which flag a root-cause analysis follows. */
type Flag = 'fault' | 'error';

/** The service a segment stands for, as X-Ray names it on its service map. */
export function serviceIdOf(segment: SegmentDocument): ApiServiceId {
  const id: ApiServiceId = { Name: segment.name, Names: [segment.name] };
  const type = segment.origin ?? (segment.inferred ? 'remote' : undefined);
  if (type) id.Type = type;
  if (typeof segment.aws?.account_id === 'string') id.AccountId = segment.aws.account_id;
  return id;
}

const serviceKey = (id: ApiServiceId) => `${id.Name}\u0000${id.Type ?? ''}\u0000${id.AccountId ?? ''}`;

/**
 * The trace's root: the segment with no parent in the trace (the entry point). When several qualify
 * (a trace still arriving), the earliest wins.
 */
export function rootSegment(trace: AssembledTrace): SegmentDocument | undefined {
  const ids = new Set<string>();
  for (const segment of trace.segments) collectIds(segment, ids);
  const candidates = trace.segments.filter((segment) => !segment.parent_id || !ids.has(segment.parent_id));
  const pool = candidates.length > 0 ? candidates : trace.segments;
  return pool.reduce<SegmentDocument | undefined>(
    (best, segment) => (best === undefined || segment.start_time < best.start_time ? segment : best),
    undefined,
  );
}

function collectIds(entity: EntityFields, into: Set<string>): void {
  into.add(entity.id);
  for (const child of entity.subsegments ?? []) collectIds(child, into);
}

/**
 * Summarizes an assembled trace as GetTraceSummaries does:
 * `Duration` spans every segment; `ResponseTime`, `Http`, `HasFault`/`HasError` come from the root segment;
 * `HasThrottle` is any segment's; `IsPartial` means a document is still in progress; annotations and users
 * carry the services that recorded them; root causes are the farthest-downstream faulting (or erroring)
 * services with the path of subsegments to the failure.
 */
export function summarizeTrace(trace: AssembledTrace, revision = 1): ApiTraceSummary {
  const all = [...trace.segments, ...trace.orphans, ...trace.inferred];
  const root = rootSegment(trace);
  const start = Math.min(...all.map((segment) => segment.start_time));
  const end = Math.max(...all.map((segment) => segment.end_time ?? segment.start_time));

  const services = new Map<string, ApiServiceId>();
  for (const segment of [...trace.segments, ...trace.inferred]) {
    const id = serviceIdOf(segment);
    services.set(serviceKey(id), id);
  }

  const request = root?.http?.request;
  const status = root?.http?.response?.status;
  const http: ApiTraceSummary['Http'] = {};
  if (request?.url !== undefined) http.HttpURL = request.url;
  if (typeof status === 'number') http.HttpStatus = status;
  if (request?.method !== undefined) http.HttpMethod = request.method;
  if (request?.user_agent !== undefined) http.UserAgent = request.user_agent;
  if (request?.client_ip !== undefined) http.ClientIp = request.client_ip;

  const summary: ApiTraceSummary = {
    Id: trace.id,
    StartTime: root?.start_time ?? start,
    Duration: round(end - start),
    ResponseTime: root?.end_time !== undefined ? round(root.end_time - root.start_time) : 0,
    HasFault: root?.fault === true,
    HasError: root?.error === true,
    HasThrottle: all.some((segment) => segment.throttle === true || hasFlagBelow(segment, 'throttle')),
    IsPartial: all.some(isInProgress),
    Http: http,
    Annotations: collectAnnotations(trace.segments),
    Users: collectUsers(trace.segments),
    ServiceIds: [...services.values()],
    ResourceARNs: [
      ...new Set(all.flatMap((segment) => (segment.resource_arn ? [segment.resource_arn] : []))),
    ].map((arn) => ({ ARN: arn })),
    FaultRootCauses: rootCauses(trace, root, 'fault'),
    ErrorRootCauses: rootCauses(trace, root, 'error'),
    Revision: revision,
  };
  if (root) summary.EntryPoint = serviceIdOf(root);
  return summary;
}

function hasFlagBelow(entity: EntityFields, flag: 'throttle' | Flag): boolean {
  return (entity.subsegments ?? []).some((child) => child[flag] === true || hasFlagBelow(child, flag));
}

function collectAnnotations(segments: readonly SegmentDocument[]): Record<string, ApiValueWithServiceIds[]> {
  // key -> value key -> (value, services)
  const byKey = new Map<
    string,
    Map<string, { value: AnnotationValue; services: Map<string, ApiServiceId> }>
  >();
  const visit = (entity: EntityFields, service: ApiServiceId) => {
    for (const [key, value] of Object.entries(entity.annotations ?? {})) {
      if (!byKey.has(key) && byKey.size >= INDEXED_ANNOTATIONS_PER_TRACE) continue;
      const values = byKey.get(key) ?? new Map();
      byKey.set(key, values);
      const valueKey = `${typeof value}:${String(value)}`;
      const entry = values.get(valueKey) ?? { value, services: new Map() };
      values.set(valueKey, entry);
      entry.services.set(serviceKey(service), service);
    }
    for (const child of entity.subsegments ?? []) visit(child, service);
  };
  for (const segment of segments) visit(segment, serviceIdOf(segment));

  const result: Record<string, ApiValueWithServiceIds[]> = {};
  for (const [key, values] of byKey) {
    result[key] = [...values.values()].map(({ value, services }) => ({
      AnnotationValue: apiAnnotationValue(value),
      ServiceIds: [...services.values()],
    }));
  }
  return result;
}

/** An annotation value in the API's tagged-union shape. */
export function apiAnnotationValue(value: AnnotationValue): ApiAnnotationValue {
  if (typeof value === 'number') return { NumberValue: value };
  if (typeof value === 'boolean') return { BooleanValue: value };
  return { StringValue: value };
}

function collectUsers(segments: readonly SegmentDocument[]): ApiTraceSummary['Users'] {
  const users = new Map<string, Map<string, ApiServiceId>>();
  for (const segment of segments) {
    if (!segment.user) continue;
    const services = users.get(segment.user) ?? new Map();
    users.set(segment.user, services);
    const id = serviceIdOf(segment);
    services.set(serviceKey(id), id);
  }
  return [...users].map(([UserName, services]) => ({ UserName, ServiceIds: [...services.values()] }));
}

/**
 * Root causes of a flag: the segments (real or inferred) that carry the flag while no segment they call
 * does — the farthest downstream — each with the entity path from the segment to its deepest flagged
 * subsegment and that subsegment's exceptions.
 */
function rootCauses(trace: AssembledTrace, root: SegmentDocument | undefined, flag: Flag): ApiRootCause[] {
  const nodes = [...trace.segments, ...trace.orphans, ...trace.inferred];
  const flagged = nodes.filter((segment) => segment[flag] === true || hasFlagBelow(segment, flag));
  if (flagged.length === 0) return [];

  const ownerOf = entityOwners(nodes);
  const callsFlagged = new Set<SegmentDocument>();
  for (const callee of flagged) {
    const caller = callee.parent_id ? ownerOf.get(callee.parent_id) : undefined;
    if (caller && caller !== callee) callsFlagged.add(caller);
  }

  const clientImpacting = root?.[flag] === true;
  return flagged
    .filter((segment) => !callsFlagged.has(segment))
    .map((segment) => ({
      Services: [
        {
          ...serviceIdOf(segment),
          EntityPath: entityPath(segment, flag),
          Inferred: segment.inferred === true,
        },
      ],
      ClientImpacting: clientImpacting,
    }));
}

function entityPath(segment: EntityFields, flag: Flag): ApiEntityPath[] {
  let deepest: EntityFields[] = [segment];
  const walk = (entity: EntityFields, path: EntityFields[]) => {
    if (path.length > deepest.length) deepest = path;
    for (const child of entity.subsegments ?? []) {
      if (child[flag] === true || hasFlagBelow(child, flag)) walk(child, [...path, child]);
    }
  };
  walk(segment, [segment]);
  return deepest.map((entity) => {
    const step: ApiEntityPath = { Name: entity.name };
    const exceptions = typeof entity.cause === 'object' ? (entity.cause.exceptions ?? []) : [];
    if (exceptions.length > 0) {
      step.Exceptions = exceptions.map((exception) => ({
        ...(exception.type !== undefined && { Name: exception.type }),
        ...(exception.message !== undefined && { Message: exception.message }),
      }));
      step.Remote = exceptions.some((exception) => exception.remote === true);
    }
    return step;
  });
}

/** Durations on the wire carry milliseconds; floating-point subtraction would otherwise leak 1e-13 noise. */
function round(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
