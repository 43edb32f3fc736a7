/**
 * X-Ray's limits and protocol constants, each named where it comes from.
 * Quotas: https://docs.aws.amazon.com/general/latest/gr/xray.html
 */

/** BatchGetTraces rejects more ids per call (API reference, BatchGetTraces: "TraceIds ... Maximum 5"). */
export const BATCH_GET_TRACES_MAX_IDS = 5;

/** "Segment document size: 64 KB" (X-Ray quotas). PutTraceSegments rejects a larger document. */
export const SEGMENT_DOCUMENT_MAX_BYTES = 64 * 1024;

/**
 * "Trace document size: 500 KB" (X-Ray quotas). Past it X-Ray stops adding to the trace and BatchGetTraces
 * returns it with `LimitExceeded: true` (knowledge-center/x-ray-trace-quota-error).
 */
export const TRACE_DOCUMENT_MAX_BYTES = 500 * 1024;

/** "Trace and service graph data retention: 30 days" (X-Ray quotas). */
export const RETENTION_DAYS = 30;

/** Annotation keys: alphanumeric and underscore, at most 500 characters (segment documents, `annotations`). */
export const ANNOTATION_KEY_MAX_LENGTH = 500;

/** "Indexed annotations per trace: 50" (X-Ray quotas); GetTraceSummaries indexes only the first 50. */
export const INDEXED_ANNOTATIONS_PER_TRACE = 50;

/**
 * Documents per PutTraceSegments call that X-Ray's own senders use. Third-party exporters document 50 as
 * X-Ray's limit per call (not confirmed against an AWS source from here); xray-local accepts more.
 */
export const PUT_TRACE_SEGMENTS_BATCH = 50;

/** UDP datagrams carry one document; 64 KB is both the IP limit and the daemon's receive buffer. */
export const UDP_MAX_DATAGRAM_BYTES = 65_507;

/** The daemon protocol's header line (xray-api-sendingdata.html, "Sending segment documents to the X-Ray daemon"). */
export const DAEMON_HEADER = '{"format": "json", "version": 1}';

/** The port the X-Ray daemon listens on, TCP and UDP, by default. */
export const DAEMON_DEFAULT_PORT = 2000;
