import {
  BatchGetTracesCommand,
  GetServiceGraphCommand,
  GetTraceSummariesCommand,
  InvalidRequestException,
  PutTraceSegmentsCommand,
  paginateGetTraceSummaries,
  ThrottledException,
  type XRayClient,
} from '@aws-sdk/client-xray';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalXRayService } from '../../lib/local/xray-service.js';
import { fixture } from '../helpers/fixtures.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';
import { segment, twoServiceTrace } from '../helpers/segments.js';

describe('xray-local through the real @aws-sdk/client-xray', () => {
  let service: LocalXRayService;
  let client: XRayClient;
  const now = Date.now() / 1000;
  const healthy = twoServiceTrace({ start: now - 600, annotations: { tenant: 'acme', tier: 2 } });
  const faulty = twoServiceTrace({ start: now - 300, fault: true, annotations: { tenant: 'globex' } });

  beforeAll(async () => {
    const started = await startLocalXRay();
    service = started.service;
    client = xrayClient(started.endpoint);
    const documents = [...healthy.documents, ...faulty.documents].map((d) => JSON.stringify(d));
    const put = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: documents }));
    expect(put.UnprocessedTraceSegments).toEqual([]);
  });
  afterAll(async () => {
    client?.destroy();
    await service?.stop();
  });

  it('lists traces most recent first with X-Ray summary fields', async () => {
    const page = await client.send(
      new GetTraceSummariesCommand({
        StartTime: new Date((now - 3600) * 1000),
        EndTime: new Date(now * 1000),
      }),
    );
    expect(page.TraceSummaries?.map((s) => s.Id)).toEqual([faulty.id, healthy.id]);
    const summary = page.TraceSummaries![0]!;
    expect(summary.HasFault).toBe(true);
    expect(summary.StartTime).toBeInstanceOf(Date);
    expect(summary.ResponseTime).toBeCloseTo(0.25, 6);
    expect(summary.Http?.HttpStatus).toBe(502);
    expect(summary.EntryPoint?.Name).toBe('api');
    expect(summary.ServiceIds?.map((s) => s.Name).sort()).toEqual(['DynamoDB', 'api', 'payments']);
    // DynamoDB is the farthest-downstream faulting node: its inferred segment is the root cause.
    const cause = summary.FaultRootCauses?.[0]?.Services?.[0];
    expect(cause?.Name).toBe('DynamoDB');
    expect(cause?.Inferred).toBe(true);
    expect(summary.FaultRootCauses?.[0]?.ClientImpacting).toBe(true);
    expect(page.TracesProcessedCount).toBe(2);
    expect(page.ApproximateTime).toBeInstanceOf(Date);
  });

  it('filters with annotations, booleans and service()', async () => {
    const ids = async (FilterExpression: string) => {
      const page = await client.send(
        new GetTraceSummariesCommand({
          StartTime: new Date((now - 3600) * 1000),
          EndTime: new Date(now * 1000),
          FilterExpression,
        }),
      );
      return page.TraceSummaries?.map((s) => s.Id) ?? [];
    };
    expect(await ids('annotation.tenant = "acme"')).toEqual([healthy.id]);
    expect(await ids('annotation.tier >= 2 AND ok')).toEqual([healthy.id]);
    expect(await ids('fault AND service("payments")')).toEqual([faulty.id]);
    expect(await ids('NOT fault OR http.status = 502')).toEqual([faulty.id, healthy.id]);
    expect(await ids('service("nobody")')).toEqual([]);
  });

  it('answers an unsupported filter with InvalidRequestException naming the position', async () => {
    const error = await client
      .send(
        new GetTraceSummariesCommand({
          StartTime: new Date((now - 3600) * 1000),
          EndTime: new Date(now * 1000),
          FilterExpression: 'edge("a", "b")',
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestException);
    expect((error as Error).message).toMatch(/position 0: unsupported keyword "edge"/);
  });

  it('returns whole traces with their inferred segments, and unknown ids as unprocessed', async () => {
    const unknown = '1-00000000-000000000000000000000000';
    const result = await client.send(new BatchGetTracesCommand({ TraceIds: [healthy.id, unknown] }));
    expect(result.UnprocessedTraceIds).toEqual([unknown]);
    const trace = result.Traces![0]!;
    expect(trace.Id).toBe(healthy.id);
    expect(trace.LimitExceeded).toBe(false);
    const documents = trace.Segments!.map(
      (s) => JSON.parse(s.Document!) as { name: string; inferred?: boolean },
    );
    expect(documents.map((d) => [d.name, d.inferred === true]).sort()).toEqual([
      ['DynamoDB', true],
      ['api', false],
      ['payments', false],
    ]);
  });

  it('rejects more than 5 trace ids per BatchGetTraces', async () => {
    const error = await client
      .send(new BatchGetTracesCommand({ TraceIds: Array.from({ length: 6 }, () => healthy.id) }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestException);
    expect((error as Error).message).toMatch(/maximum query size: 5/);
  });

  it('reports malformed documents as unprocessed with an error code, and keeps the rest', async () => {
    const good = segment();
    const result = await client.send(
      new PutTraceSegmentsCommand({
        TraceSegmentDocuments: [
          fixture('segments', 'invalid', 'otelcontrib-minCauseIsInvalid.json'),
          JSON.stringify({ ...segment(), trace_id: 'not-a-trace' }),
          JSON.stringify(good),
        ],
      }),
    );
    expect(result.UnprocessedTraceSegments?.map((u) => [u.Id, u.ErrorCode])).toEqual([
      ['5cc4a447f5d4d696', 'InvalidSegment'],
      [expect.any(String), 'InvalidTraceId'],
    ]);
    expect(result.UnprocessedTraceSegments?.[0]?.Message).toMatch(/cause: expected an object/);
    const fetched = await client.send(new BatchGetTracesCommand({ TraceIds: [good.trace_id] }));
    expect(fetched.Traces?.[0]?.Id).toBe(good.trace_id);
  });

  it('pages with NextToken until every trace is listed exactly once', async () => {
    const base = now - 7200;
    const many = Array.from({ length: 250 }, (_, i) => segment({ start_time: base + i }));
    for (let i = 0; i < many.length; i += 50) {
      await client.send(
        new PutTraceSegmentsCommand({
          TraceSegmentDocuments: many.slice(i, i + 50).map((d) => JSON.stringify(d)),
        }),
      );
    }
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateGetTraceSummaries(
      { client },
      { StartTime: new Date(base * 1000), EndTime: new Date((base + 249) * 1000) },
    )) {
      pages++;
      seen.push(...(page.TraceSummaries ?? []).map((s) => s.Id!));
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(250);
    expect(seen).toEqual(many.map((d) => d.trace_id).reverse());
  });

  it('draws the service graph with edges and fault counts', async () => {
    const graph = await client.send(
      new GetServiceGraphCommand({ StartTime: new Date((now - 3600) * 1000), EndTime: new Date(now * 1000) }),
    );
    const byName = new Map(graph.Services?.map((s) => [s.Name, s]));
    const api = byName.get('api')!;
    const payments = byName.get('payments')!;
    expect(api.Edges?.map((e) => e.ReferenceId)).toEqual([payments.ReferenceId]);
    expect(payments.SummaryStatistics?.FaultStatistics?.TotalCount).toBe(1);
    expect(byName.get('DynamoDB')?.Type).toBe('AWS::DynamoDB::Table');
  });
});

describe('xray-local limits and injected faults', () => {
  it('throttles past the token bucket with ThrottledException (HTTP 429)', async () => {
    const { service, endpoint } = await startLocalXRay({
      rateLimits: { GetTraceSummaries: { rate: 0.001, burst: 2 } },
    });
    const client = xrayClient(endpoint);
    try {
      const call = () =>
        client
          .send(new GetTraceSummariesCommand({ StartTime: new Date(0), EndTime: new Date() }))
          .catch((e: unknown) => e);
      const results = [await call(), await call(), await call()];
      expect(results.slice(0, 2).every((r) => !(r instanceof Error))).toBe(true);
      expect(results[2]).toBeInstanceOf(ThrottledException);
      expect((results[2] as ThrottledException).$metadata.httpStatusCode).toBe(429);
      expect(service.stats().throttled).toBe(1);
    } finally {
      client.destroy();
      await service.stop();
    }
  });

  it('injects 5xx at the configured rate, which the SDK sees as a server fault', async () => {
    const { service, endpoint } = await startLocalXRay({ errorRate: 1 });
    const client = xrayClient(endpoint);
    try {
      const error = (await client
        .send(new GetTraceSummariesCommand({ StartTime: new Date(0), EndTime: new Date() }))
        .catch((e: unknown) => e)) as { $fault: string; $metadata: { httpStatusCode: number } };
      expect(error.$fault).toBe('server');
      expect(error.$metadata.httpStatusCode).toBe(503);
    } finally {
      client.destroy();
      await service.stop();
    }
  });

  it('forgets traces older than 30 days before its clock', async () => {
    let clock = Date.now() / 1000;
    const { service, endpoint } = await startLocalXRay({ now: () => clock });
    const client = xrayClient(endpoint);
    try {
      const old = segment({ start_time: clock - 29 * 86_400 });
      await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(old)] }));
      const get = () => client.send(new BatchGetTracesCommand({ TraceIds: [old.trace_id] }));
      expect((await get()).Traces).toHaveLength(1);
      clock += 2 * 86_400;
      expect((await get()).UnprocessedTraceIds).toEqual([old.trace_id]);
    } finally {
      client.destroy();
      await service.stop();
    }
  });
});
