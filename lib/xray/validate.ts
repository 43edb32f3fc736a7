import { ENTITY_ID_PATTERN, TRACE_ID_PATTERN } from './ids.js';
import { ANNOTATION_KEY_MAX_LENGTH, SEGMENT_DOCUMENT_MAX_BYTES } from './limits.js';
import { NAMESPACES, type SegmentDocument, type Subsegment } from './types.js';

/** The outcome of validating one document: the typed document, or every problem found, each naming its path. */
export type Validation<T = SegmentDocument> =
  { ok: true; document: T } | { ok: false; problems: readonly string[] };

/** X-Ray's `name` limit (segment documents: "200 characters max"). */
const NAME_MAX_LENGTH = 200;
/** A scheme (`jdbc:`, `postgresql:`...) is what lets X-Ray and its consumers name the database from `sql.url`. */
const URL_WITH_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parses and validates one segment document as PutTraceSegments receives it: JSON text of at most 64 KB.
 * Problems are reported all at once, each with its path (`subsegments[2].start_time: expected a number`).
 */
export function parseSegmentDocument(text: string): Validation {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so most documents need no count (a pass over the text each).
  const bytes = text.length * 3 <= SEGMENT_DOCUMENT_MAX_BYTES ? 0 : Buffer.byteLength(text, 'utf8');
  if (bytes > SEGMENT_DOCUMENT_MAX_BYTES) {
    return {
      ok: false,
      problems: [`document: ${bytes} bytes exceeds the ${SEGMENT_DOCUMENT_MAX_BYTES}-byte limit`],
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`document: not valid JSON (${(error as Error).message})`] };
  }
  return validateSegmentDocument(value);
}

/**
 * Validates a parsed top-level document: a segment, or a subsegment sent on its own (`type: "subsegment"`).
 *
 * Only as strict as X-Ray: unknown fields are kept; annotation keys such as `aws:api_id` (which AWS itself
 * produces, though the published schema forbids them) are accepted; `content_length` may be a string; a
 * document with neither `end_time` nor `in_progress` is accepted and treated as in progress.
 */
export function validateSegmentDocument(value: unknown): Validation {
  const problems: string[] = [];
  if (!isObject(value)) return { ok: false, problems: ['document: expected a JSON object'] };

  if (typeof value.trace_id !== 'string') problems.push('trace_id: expected a string');
  else if (!TRACE_ID_PATTERN.test(value.trace_id))
    problems.push(`trace_id: "${value.trace_id}" is not 1-<8 hex digits>-<24 hex digits>`);

  if (typeof value.id === 'string' && !ENTITY_ID_PATTERN.test(value.id))
    problems.push(`id: "${value.id}" is not 16 hexadecimal digits`);

  if (value.type !== undefined && value.type !== 'subsegment')
    problems.push(`type: expected "subsegment" or absent, got ${JSON.stringify(value.type)}`);
  if (value.type === 'subsegment' && typeof value.parent_id !== 'string')
    problems.push('parent_id: required on a subsegment sent on its own');
  if (value.parent_id !== undefined && typeof value.parent_id !== 'string')
    problems.push('parent_id: expected a string');
  for (const field of ['origin', 'user', 'resource_arn'] as const) {
    if (value[field] !== undefined && typeof value[field] !== 'string')
      problems.push(`${field}: expected a string`);
  }
  if (value.inferred !== undefined && typeof value.inferred !== 'boolean')
    problems.push('inferred: expected a boolean');

  checkEntity(value, '', problems);
  return problems.length === 0 ? { ok: true, document: value as SegmentDocument } : { ok: false, problems };
}

/** Validates an embedded subsegment on its own (documentation fragments, tests). `path` prefixes each problem. */
export function validateSubsegment(value: unknown, path = ''): Validation<Subsegment> {
  const problems: string[] = [];
  if (!isObject(value)) return { ok: false, problems: [`${path || 'subsegment'}: expected a JSON object`] };
  checkEntity(value, path, problems);
  return problems.length === 0 ? { ok: true, document: value as Subsegment } : { ok: false, problems };
}

/**
 * The path of `field` inside the entity at `path` ('' for the document itself). A module function rather
 * than a closure made for each entity: run through tsx, every closure made is also named by a call.
 */
function fieldAt(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

function checkEntity(entity: Json, path: string, problems: string[]): void {
  if (typeof entity.id !== 'string' || entity.id.length === 0)
    problems.push(`${fieldAt(path, 'id')}: expected a non-empty string`);
  if (typeof entity.name !== 'string' || entity.name.length === 0)
    problems.push(`${fieldAt(path, 'name')}: expected a non-empty string`);
  else if (entity.name.length > NAME_MAX_LENGTH)
    problems.push(`${fieldAt(path, 'name')}: ${entity.name.length} characters exceeds ${NAME_MAX_LENGTH}`);

  if (!isFiniteNumber(entity.start_time)) problems.push(`${fieldAt(path, 'start_time')}: expected a number`);
  if (entity.end_time !== undefined && !isFiniteNumber(entity.end_time))
    problems.push(`${fieldAt(path, 'end_time')}: expected a number`);
  if (
    isFiniteNumber(entity.start_time) &&
    isFiniteNumber(entity.end_time) &&
    entity.end_time < entity.start_time
  )
    problems.push(
      `${fieldAt(path, 'end_time')}: ${entity.end_time} is before start_time ${entity.start_time}`,
    );

  for (const flag of ['in_progress', 'error', 'fault', 'throttle'] as const) {
    if (entity[flag] !== undefined && typeof entity[flag] !== 'boolean')
      problems.push(`${fieldAt(path, flag)}: expected a boolean`);
  }

  if (entity.namespace !== undefined && !(NAMESPACES as readonly unknown[]).includes(entity.namespace))
    problems.push(
      `${fieldAt(path, 'namespace')}: expected one of ${NAMESPACES.join(', ')}, got ${JSON.stringify(entity.namespace)}`,
    );

  // Paths are built only for fields present: most entities lack most of them.
  if (entity.cause !== undefined) checkCause(entity.cause, fieldAt(path, 'cause'), problems);
  if (entity.http !== undefined) checkHttp(entity.http, fieldAt(path, 'http'), problems);
  if (entity.aws !== undefined && !isObject(entity.aws))
    problems.push(`${fieldAt(path, 'aws')}: expected an object`);
  if (entity.sql !== undefined) checkSql(entity.sql, fieldAt(path, 'sql'), problems);
  if (entity.annotations !== undefined)
    checkAnnotations(entity.annotations, fieldAt(path, 'annotations'), problems);
  if (entity.metadata !== undefined && !isObject(entity.metadata))
    problems.push(`${fieldAt(path, 'metadata')}: expected an object`);

  if (entity.precursor_ids !== undefined) {
    if (!Array.isArray(entity.precursor_ids) || entity.precursor_ids.some((id) => typeof id !== 'string'))
      problems.push(`${fieldAt(path, 'precursor_ids')}: expected an array of strings`);
  }

  if (entity.subsegments !== undefined) {
    if (!Array.isArray(entity.subsegments))
      problems.push(`${fieldAt(path, 'subsegments')}: expected an array`);
    else
      entity.subsegments.forEach((child, index) => {
        const childPath = `${fieldAt(path, 'subsegments')}[${index}]`;
        if (!isObject(child)) problems.push(`${childPath}: expected an object`);
        else checkEntity(child, childPath, problems);
      });
  }
}

function checkCause(cause: unknown, path: string, problems: string[]): void {
  if (cause === undefined || typeof cause === 'string') return;
  if (!isObject(cause)) {
    problems.push(`${path}: expected an object or an exception id string, got ${JSON.stringify(cause)}`);
    return;
  }
  if (cause.exceptions === undefined) return;
  if (!Array.isArray(cause.exceptions)) {
    problems.push(`${path}.exceptions: expected an array`);
    return;
  }
  cause.exceptions.forEach((exception, index) => {
    const at = `${path}.exceptions[${index}]`;
    if (!isObject(exception)) problems.push(`${at}: expected an object`);
    else if (exception.stack !== undefined && !Array.isArray(exception.stack))
      problems.push(`${at}.stack: expected an array`);
  });
}

function checkHttp(http: unknown, path: string, problems: string[]): void {
  if (http === undefined) return;
  if (!isObject(http)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  if (http.request !== undefined && !isObject(http.request))
    problems.push(`${path}.request: expected an object`);
  if (http.response === undefined) return;
  if (!isObject(http.response)) {
    problems.push(`${path}.response: expected an object`);
    return;
  }
  const { status, content_length } = http.response;
  if (status !== undefined && !(Number.isInteger(status) && (status as number) >= 0))
    problems.push(`${path}.response.status: expected an integer, got ${JSON.stringify(status)}`);
  if (
    content_length !== undefined &&
    !isFiniteNumber(content_length) &&
    !/^-?\d+$/.test(String(content_length))
  )
    problems.push(
      `${path}.response.content_length: expected a number, got ${JSON.stringify(content_length)}`,
    );
}

function checkSql(sql: unknown, path: string, problems: string[]): void {
  if (sql === undefined) return;
  if (!isObject(sql)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  if (sql.url !== undefined && (typeof sql.url !== 'string' || !URL_WITH_SCHEME.test(sql.url)))
    problems.push(
      `${path}.url: expected a URL with a scheme (jdbc:postgresql://host/db), got ${JSON.stringify(sql.url)}`,
    );
}

function checkAnnotations(annotations: unknown, path: string, problems: string[]): void {
  if (annotations === undefined) return;
  if (!isObject(annotations)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (key.length === 0 || key.length > ANNOTATION_KEY_MAX_LENGTH)
      problems.push(`${path}: key of ${key.length} characters; expected 1 to ${ANNOTATION_KEY_MAX_LENGTH}`);
    if (!['string', 'number', 'boolean'].includes(typeof value))
      problems.push(`${path}.${key}: expected a string, number or boolean, got ${JSON.stringify(value)}`);
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
