import { randomBytes } from 'node:crypto';
import { makeTraceId } from '../../lib/xray/ids.js';
import type { SegmentDocument, Subsegment } from '../../lib/xray/types.js';

/** A fresh 16-hex entity id. */
export const entityId = () => randomBytes(8).toString('hex');

/** A fresh trace id whose embedded time is `epochSeconds`. */
export const traceId = (epochSeconds = Date.now() / 1000) =>
  makeTraceId(epochSeconds, randomBytes(12).toString('hex'));

/** A complete segment with sensible defaults; `overrides` wins. */
export function segment(overrides: Partial<SegmentDocument> = {}): SegmentDocument {
  const start = overrides.start_time ?? Date.now() / 1000 - 60;
  return {
    trace_id: overrides.trace_id ?? traceId(start),
    id: entityId(),
    name: 'api',
    start_time: start,
    end_time: start + 0.25,
    ...overrides,
  };
}

/**
 * A trace across an hour boundary (epoch seconds): a root segment 0.3 s before it, and a worker segment the
 * root calls 0.2 s after it. Sent first, the worker alone starts the trace in the later hour; its root,
 * arriving late, moves the start into the hour before.
 */
export function acrossTheHour(boundary: number): { root: SegmentDocument; worker: SegmentDocument } {
  const root = segment({ start_time: boundary - 0.3, end_time: boundary + 1 });
  const worker = segment({
    trace_id: root.trace_id,
    name: 'worker',
    parent_id: root.id,
    start_time: boundary + 0.2,
    end_time: boundary + 0.8,
  });
  return { root, worker };
}

/** An embedded subsegment. */
export function subsegment(overrides: Partial<Subsegment> = {}): Subsegment {
  const start = overrides.start_time ?? Date.now() / 1000 - 60;
  return { id: entityId(), name: 'work', start_time: start, end_time: start + 0.1, ...overrides };
}

/** An `aws` subsegment for a DynamoDB call: X-Ray infers a DynamoDB node from it. */
export function dynamoCall(start: number, overrides: Partial<Subsegment> = {}): Subsegment {
  return subsegment({
    name: 'DynamoDB',
    namespace: 'aws',
    start_time: start,
    end_time: start + 0.02,
    aws: { operation: 'GetItem', table_name: 'orders', region: 'us-east-1' },
    http: { response: { status: 200 } },
    ...overrides,
  });
}

/**
 * A two-service trace: `api` calls `payments` over HTTP (payments traced itself), and payments calls DynamoDB.
 * Returns the documents in the order an SDK would send them.
 */
export function twoServiceTrace(
  options: { start?: number; fault?: boolean; annotations?: Record<string, string | number | boolean> } = {},
) {
  const start = options.start ?? Date.now() / 1000 - 120;
  const id = traceId(start);
  const call = subsegment({
    name: 'payments',
    namespace: 'remote',
    start_time: start + 0.01,
    end_time: start + 0.2,
    ...(options.fault && { fault: true }),
    http: {
      request: { method: 'POST', url: 'http://payments/charge' },
      response: { status: options.fault ? 502 : 200 },
    },
  });
  const api = segment({
    trace_id: id,
    name: 'api',
    start_time: start,
    end_time: start + 0.25,
    origin: 'AWS::ECS::Container',
    http: {
      request: { method: 'POST', url: 'https://shop.example.com/checkout' },
      response: { status: options.fault ? 502 : 200 },
    },
    ...(options.fault && { fault: true }),
    ...(options.annotations && { annotations: options.annotations }),
    subsegments: [call],
  });
  const payments = segment({
    trace_id: id,
    name: 'payments',
    parent_id: call.id,
    start_time: start + 0.02,
    end_time: start + 0.19,
    http: {
      request: { method: 'POST', url: 'http://payments/charge' },
      response: { status: options.fault ? 500 : 200 },
    },
    ...(options.fault && {
      fault: true,
      cause: { exceptions: [{ id: entityId(), type: 'DatabaseTimeout', message: 'timed out' }] },
    }),
    subsegments: [
      dynamoCall(start + 0.03, options.fault ? { fault: true, http: { response: { status: 500 } } } : {}),
    ],
  });
  return { id, documents: [api, payments], api, payments, call };
}
