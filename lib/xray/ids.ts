import { hexDigest } from '../digest.js';
import { InvalidTraceIdError } from './errors.js';

/** `1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>` (xray-api-sendingdata.html, "Generating trace IDs"). */
export const TRACE_ID_PATTERN = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
/** Segment and subsegment ids: 64 bits as 16 hex digits. */
export const ENTITY_ID_PATTERN = /^[0-9a-f]{16}$/;

/** True when `id` is a well-formed X-Ray trace id. */
export function isTraceId(id: string): boolean {
  return TRACE_ID_PATTERN.test(id);
}

/** The epoch second a trace id embeds: the time its root request started, as the SDK stamped it. */
export function traceIdEpochSeconds(traceId: string): number {
  if (!isTraceId(traceId)) throw new InvalidTraceIdError(traceId);
  return Number.parseInt(traceId.slice(2, 10), 16);
}

/** Builds a trace id for a request that started at `epochSeconds`, with 24 hex digits of `random`. */
export function makeTraceId(epochSeconds: number, random: string): string {
  const time = Math.floor(epochSeconds).toString(16).padStart(8, '0');
  return `1-${time}-${random}`;
}

/**
 * A stable 16-hex id derived from `parts`. X-Ray assigns ids to the segments it infers; deriving ours from
 * the subsegment they stand for keeps them identical across reads, so re-exports are idempotent.
 */
export function derivedEntityId(...parts: string[]): string {
  return hexDigest('sha1', parts.join('\u0000')).slice(0, 16);
}
