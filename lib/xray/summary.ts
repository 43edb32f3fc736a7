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

/**
 * Adds a service to a list unless one with the same name, type and account is there (then it takes that
 * one's place, as a Map keyed by them would). Lists of a trace's services hold a handful, so a scan beats
 * building a string key per segment, which was the largest line of the summary's profile.
 */
function addService(services: ApiServiceId[], id: ApiServiceId): void {
  for (let i = 0; i < services.length; i++) {
    const other = services[i]!;
    if (other.Name === id.Name && other.Type === id.Type && other.AccountId === id.AccountId) {
      services[i] = id;
      return;
    }
  }
  services.push(id);
}

/**
 * The trace's root: the segment with no parent in the trace (the entry point). When several qualify
 * (a trace still arriving), the earliest wins.
 */
export function rootSegment(trace: AssembledTrace): SegmentDocument | undefined {
  const ids = new Set<string>();
  for (const segment of trace.segments) walk(segment, ids);
  return rootAmong(trace.segments, ids);
}

function rootAmong(
  segments: readonly SegmentDocument[],
  ids: ReadonlySet<string>,
): SegmentDocument | undefined {
  let root: SegmentDocument | undefined;
  let earliest: SegmentDocument | undefined;
  for (const segment of segments) {
    if (earliest === undefined || segment.start_time < earliest.start_time) earliest = segment;
    const parentless = !segment.parent_id || !ids.has(segment.parent_id);
    if (parentless && (root === undefined || segment.start_time < root.start_time)) root = segment;
  }
  return root ?? earliest;
}

/** Flags of an entity tree, as bits: set when the entity or any subsegment below it carries the flag. */
const THROTTLE = 1;
const FAULT = 2;
const ERROR = 4;
const FLAG_BITS: Record<Flag, number> = { fault: FAULT, error: ERROR };

/** Annotation key → value → the value as first seen and the services that recorded it. */
type AnnotationIndex = Map<
  string,
  Map<AnnotationValue, { value: AnnotationValue; services: ApiServiceId[] }>
>;

/**
 * One walk of an entity tree for everything the summary needs of it: its flags (returned), its ids (into
 * `ids`, for finding the root) and its annotations (into `annotations`, under `service`). The summary
 * walked each tree five times, once per question.
 */
function walk(
  entity: EntityFields,
  ids?: Set<string>,
  annotations?: AnnotationIndex,
  service?: ApiServiceId,
): number {
  let flags =
    (entity.throttle === true ? THROTTLE : 0) |
    (entity.fault === true ? FAULT : 0) |
    (entity.error === true ? ERROR : 0);
  ids?.add(entity.id);
  if (annotations && entity.annotations) addAnnotations(annotations, entity.annotations, service!);
  const children = entity.subsegments;
  if (children) for (const child of children) flags |= walk(child, ids, annotations, service);
  return flags;
}

function addAnnotations(
  index: AnnotationIndex,
  annotations: Readonly<Record<string, AnnotationValue>>,
  service: ApiServiceId,
): void {
  for (const key of Object.keys(annotations)) {
    let values = index.get(key);
    if (!values) {
      if (index.size >= INDEXED_ANNOTATIONS_PER_TRACE) continue;
      values = new Map();
      index.set(key, values);
    }
    // Keyed by the value itself: a Map tells 1 from "1" and true from "true", and holds one NaN and one zero.
    const value = annotations[key]!;
    let entry = values.get(value);
    if (!entry) {
      entry = { value, services: [] };
      values.set(value, entry);
    }
    addService(entry.services, service);
  }
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
  const ids = new Set<string>();
  const annotations: AnnotationIndex = new Map();
  const flags = new Array<number>(all.length);
  let start = Infinity;
  let end = -Infinity;
  let anyFlags = 0;
  let partial = false;
  const arns = new Set<string>();
  // The trace's services: its segments', then its inferred segments' (`all` holds them in that order).
  const services: ApiServiceId[] = [];
  const firstInferred = trace.segments.length + trace.orphans.length;
  for (let i = 0; i < all.length; i++) {
    const segment = all[i]!;
    // Ids and annotations are the segments' own; orphans and inferred segments only add flags.
    if (i < trace.segments.length) {
      const service = serviceIdOf(segment);
      addService(services, service);
      flags[i] = walk(segment, ids, annotations, service);
    } else {
      if (i >= firstInferred) addService(services, serviceIdOf(segment));
      flags[i] = walk(segment);
    }
    anyFlags |= flags[i]!;
    if (segment.start_time < start) start = segment.start_time;
    const last = segment.end_time ?? segment.start_time;
    if (last > end) end = last;
    if (isInProgress(segment)) partial = true;
    if (segment.resource_arn) arns.add(segment.resource_arn);
  }
  const root = rootAmong(trace.segments, ids);

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
    HasThrottle: (anyFlags & THROTTLE) !== 0,
    IsPartial: partial,
    Http: http,
    Annotations: annotationsOf(annotations),
    Users: collectUsers(trace.segments),
    ServiceIds: services,
    ResourceARNs: [...arns].map((arn) => ({ ARN: arn })),
    FaultRootCauses: anyFlags & FAULT ? rootCauses(all, flags, root, 'fault') : [],
    ErrorRootCauses: anyFlags & ERROR ? rootCauses(all, flags, root, 'error') : [],
    Revision: revision,
  };
  if (root) summary.EntryPoint = serviceIdOf(root);
  return summary;
}

function hasFlagBelow(entity: EntityFields, flag: Flag): boolean {
  return (entity.subsegments ?? []).some((child) => child[flag] === true || hasFlagBelow(child, flag));
}

function annotationsOf(index: AnnotationIndex): Record<string, ApiValueWithServiceIds[]> {
  const result: Record<string, ApiValueWithServiceIds[]> = {};
  for (const [key, values] of index) {
    result[key] = [...values.values()].map(({ value, services }) => ({
      AnnotationValue: apiAnnotationValue(value),
      ServiceIds: services,
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
  const users = new Map<string, ApiServiceId[]>();
  for (const segment of segments) {
    if (!segment.user) continue;
    let services = users.get(segment.user);
    if (!services) users.set(segment.user, (services = []));
    addService(services, serviceIdOf(segment));
  }
  return [...users].map(([UserName, services]) => ({ UserName, ServiceIds: services }));
}

/**
 * Root causes of a flag: the segments (real or inferred) that carry the flag while no segment they call
 * does — the farthest downstream — each with the entity path from the segment to its deepest flagged
 * subsegment and that subsegment's exceptions.
 */
function rootCauses(
  nodes: readonly SegmentDocument[],
  flags: readonly number[],
  root: SegmentDocument | undefined,
  flag: Flag,
): ApiRootCause[] {
  const flagged = nodes.filter((_, i) => (flags[i]! & FLAG_BITS[flag]) !== 0);
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
