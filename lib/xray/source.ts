import type { SegmentDocument } from './types.js';

/** What the exporter needs of a trace listing: id, revision, start time (epoch seconds). */
export interface TraceRef {
  id: string;
  revision: number;
  startTime: number;
}

/** One trace as BatchGetTraces returns it: documents still as text, so bad ones can be kept verbatim. */
export interface RawTrace {
  id: string;
  limitExceeded: boolean;
  documents: { id: string; text: string }[];
}

export type TimeRangeType = 'TraceId' | 'Event' | 'Service';

/**
 * The exporter's trace source port: X-Ray (`XRayTraceSource`, over `@aws-sdk/client-xray`, which is also
 * how xray-local is read). Calls are single attempts; the exporter owns retries and concurrency, because
 * it sees every call and adapts to throttling across all of them.
 */
export interface TraceSource {
  /** One page of summaries of [from, to) (epoch seconds), and the token of the next page if any. */
  listPage(
    window: { from: number; to: number; timeRangeType: TimeRangeType },
    nextToken?: string,
  ): Promise<{ refs: TraceRef[]; nextToken?: string }>;
  /** At most BATCH_GET_TRACES_MAX_IDS traces by id; unknown or not yet available ids come back unprocessed. */
  batchGet(ids: readonly string[]): Promise<{ traces: RawTrace[]; unprocessed: string[] }>;
}

/** Parses a raw trace's documents, for callers that trust them (tests, the local service). */
export function parsedDocuments(trace: RawTrace): SegmentDocument[] {
  return trace.documents.map((d) => JSON.parse(d.text) as SegmentDocument);
}
