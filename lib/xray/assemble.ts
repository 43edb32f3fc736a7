import { derivedEntityId } from './ids.js';
import type { EntityFields, SegmentDocument, Subsegment } from './types.js';

/** A trace put together from its documents, as BatchGetTraces presents it. */
export interface AssembledTrace {
  id: string;
  /** Segments, with the subsegments that were sent on their own attached under their parents. */
  segments: SegmentDocument[];
  /** Segments X-Ray infers for `aws` and `remote` subsegments whose callee sent no segment of its own. */
  inferred: SegmentDocument[];
  /** Subsegments sent on their own whose parent is not (yet) in the trace. Kept, not dropped. */
  orphans: SegmentDocument[];
}

/** Origins X-Ray gives the inferred segments of common AWS services; others get `AWS::<name>`. */
const INFERRED_ORIGINS: Readonly<Record<string, string>> = {
  DynamoDB: 'AWS::DynamoDB::Table',
  SQS: 'AWS::SQS::Queue',
  SNS: 'AWS::SNS',
  S3: 'AWS::S3::Bucket',
  Lambda: 'AWS::Lambda',
  Kinesis: 'AWS::Kinesis::Stream',
  StepFunctions: 'AWS::StepFunctions::StateMachine',
  EventBridge: 'AWS::Events',
};

/**
 * Which top-level document each entity id (segment or any subsegment) belongs to. A segment's
 * `parent_id` is the id of its caller's subsegment, so this map turns it into the calling segment.
 */
export function entityOwners(documents: readonly SegmentDocument[]): Map<string, SegmentDocument> {
  const owners = new Map<string, SegmentDocument>();
  const own = (entity: EntityFields, owner: SegmentDocument) => {
    owners.set(entity.id, owner);
    for (const child of entity.subsegments ?? []) own(child, owner);
  };
  for (const document of documents) own(document, document);
  return owners;
}

/** True when a document is still open: flagged in progress, or (as the X-Ray SDKs' first emit) without end_time. */
export function isInProgress(entity: EntityFields): boolean {
  return entity.in_progress === true || entity.end_time === undefined;
}

/**
 * Puts a trace together from a bag of its documents. The result does not depend on their order, except
 * that of two documents under one id the later one counts:
 *
 * - A document sent again under the same id replaces the earlier one, except that an in-progress
 *   document never replaces a complete one (the SDKs emit in-progress first, complete last).
 * - Subsegments sent on their own are attached under the segment or subsegment named by `parent_id`;
 *   those whose parent never arrived are returned as `orphans`, not dropped.
 * - Inferred segments are added for `aws`/`remote` subsegments, with ids derived from the subsegment so
 *   that every read of the trace yields the same documents.
 *
 * The input documents are not modified.
 */
export function assembleTrace(traceId: string, documents: readonly SegmentDocument[]): AssembledTrace {
  const latest = new Map<string, SegmentDocument>();
  for (const document of documents) {
    const previous = latest.get(document.id);
    if (previous && isInProgress(document) && !isInProgress(previous)) continue;
    latest.set(document.id, document);
  }

  const segments: SegmentDocument[] = [];
  let pending: SegmentDocument[] = [];
  for (const document of latest.values()) {
    if (document.type === 'subsegment') pending.push(document);
    else segments.push(document);
  }
  // Arrival order is the network's, not the trace's: two reads of one trace (two exports, xray-local and
  // X-Ray) must give the same assembly, down to which of two conflicting annotation values comes first.
  segments.sort(byStart);
  pending.sort(byStart);

  if (pending.length > 0) {
    // Attaching mutates subsegment lists, so the segments are copied first; the common case (no
    // subsegment sent on its own) pays nothing.
    for (let index = 0; index < segments.length; index++) segments[index] = structuredClone(segments[index]!);
    const entities = new Map<string, EntityFields>();
    for (const segment of segments) indexEntities(segment, entities);
    // Independent subsegments may parent one another: attach until a pass makes no progress.
    let progressed = true;
    while (pending.length > 0 && progressed) {
      progressed = false;
      const next: SegmentDocument[] = [];
      for (const document of pending) {
        const parent = document.parent_id ? entities.get(document.parent_id) : undefined;
        if (!parent) {
          next.push(document);
          continue;
        }
        const { trace_id: _t, type: _ty, parent_id: _p, ...embedded } = structuredClone(document);
        replaceOrAppendChild(parent, embedded as Subsegment);
        indexEntities(embedded as Subsegment, entities);
        progressed = true;
      }
      pending = next;
    }
  }

  const orphans = pending;
  const inferred = inferSegments(traceId, segments, orphans);
  return { id: traceId, segments, inferred, orphans };
}

/** Documents by start time, then id: an order that does not depend on when they arrived. */
function byStart(a: SegmentDocument, b: SegmentDocument): number {
  return a.start_time - b.start_time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function indexEntities(entity: EntityFields, into: Map<string, EntityFields>): void {
  into.set(entity.id, entity);
  for (const child of entity.subsegments ?? []) indexEntities(child, into);
}

function replaceOrAppendChild(parent: EntityFields, child: Subsegment): void {
  parent.subsegments ??= [];
  const existing = parent.subsegments.findIndex((candidate) => candidate.id === child.id);
  if (existing === -1) parent.subsegments.push(child);
  else if (!(isInProgress(child) && !isInProgress(parent.subsegments[existing]!)))
    parent.subsegments[existing] = child;
}

/**
 * X-Ray's inferred segments: a downstream call recorded only by its caller (namespace `aws` or `remote`)
 * still appears as a node, unless the callee traced itself (a segment whose parent_id is that subsegment).
 */
function inferSegments(
  traceId: string,
  segments: readonly SegmentDocument[],
  orphans: readonly SegmentDocument[],
): SegmentDocument[] {
  const tracedCallers = new Set<string>();
  for (const document of [...segments, ...orphans])
    if (document.parent_id) tracedCallers.add(document.parent_id);

  const inferred: SegmentDocument[] = [];
  const consider = (sub: Subsegment) => {
    if ((sub.namespace === 'aws' || sub.namespace === 'remote') && !tracedCallers.has(sub.id))
      inferred.push(inferredSegment(traceId, sub));
  };
  const visit = (entity: EntityFields) => {
    for (const sub of entity.subsegments ?? []) {
      consider(sub);
      visit(sub);
    }
  };
  for (const segment of segments) visit(segment);
  // An orphan is itself a subsegment: a remote call recorded alone still names its callee.
  for (const orphan of orphans) {
    consider(orphan);
    visit(orphan);
  }
  return inferred;
}

function inferredSegment(traceId: string, sub: Subsegment): SegmentDocument {
  const segment: SegmentDocument = {
    id: derivedEntityId(traceId, sub.id, 'inferred'),
    name: sub.name,
    trace_id: traceId,
    start_time: sub.start_time,
    parent_id: sub.id,
    inferred: true,
  };
  if (sub.end_time !== undefined) segment.end_time = sub.end_time;
  if (sub.in_progress) segment.in_progress = true;
  if (sub.http) segment.http = sub.http;
  if (sub.aws) segment.aws = sub.aws;
  for (const flag of ['error', 'fault', 'throttle'] as const) if (sub[flag]) segment[flag] = true;
  if (sub.cause !== undefined) segment.cause = sub.cause;
  if (sub.namespace === 'aws') segment.origin = INFERRED_ORIGINS[sub.name] ?? `AWS::${sub.name}`;
  return segment;
}
