import { describe, expect, it } from 'vitest';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import { segment, subsegment, traceId, twoServiceTrace } from '../../helpers/segments.js';

describe('summarizeTrace', () => {
  it('takes ResponseTime, Http and HasFault from the root, Duration from every segment', () => {
    const start = 1_700_000_000;
    const id = traceId(start);
    const root = segment({
      trace_id: id,
      start_time: start,
      end_time: start + 0.5,
      http: {
        request: { method: 'GET', url: 'https://x/y', client_ip: '203.0.113.9' },
        response: { status: 200 },
      },
    });
    const late = segment({
      trace_id: id,
      name: 'worker',
      parent_id: 'ffffffffffffffff',
      start_time: start + 0.4,
      end_time: start + 2,
      fault: true,
    });

    const summary = summarizeTrace(assembleTrace(id, [root, late]), 7);

    expect(summary.ResponseTime).toBe(0.5);
    expect(summary.Duration).toBe(2);
    expect(summary.HasFault).toBe(false);
    expect(summary.Http).toEqual({
      HttpMethod: 'GET',
      HttpURL: 'https://x/y',
      HttpStatus: 200,
      ClientIp: '203.0.113.9',
    });
    expect(summary.EntryPoint?.Name).toBe('api');
    expect(summary.Revision).toBe(7);
    expect(summary.StartTime).toBe(start);
  });

  it('sets HasThrottle from any segment or subsegment, and IsPartial while a document is in progress', () => {
    const id = traceId();
    const root = segment({ trace_id: id, subsegments: [subsegment({ throttle: true, error: true })] });
    const open = segment({ trace_id: id, name: 'worker', parent_id: root.id, in_progress: true });
    delete open.end_time;
    const summary = summarizeTrace(assembleTrace(id, [root, open]));
    expect(summary.HasThrottle).toBe(true);
    expect(summary.IsPartial).toBe(true);
    expect(summarizeTrace(assembleTrace(id, [segment({ trace_id: id })])).IsPartial).toBe(false);
  });

  it('groups annotation values with the services that recorded them', () => {
    const id = traceId();
    const root = segment({
      trace_id: id,
      name: 'api',
      start_time: 1_700_000_000,
      annotations: { tenant: 'acme', retries: 2 },
    });
    const callee = segment({
      trace_id: id,
      name: 'payments',
      start_time: 1_700_000_000.1,
      parent_id: root.id,
      annotations: { tenant: 'acme', paid: true },
    });
    const summary = summarizeTrace(assembleTrace(id, [root, callee]));
    expect(summary.Annotations.tenant).toEqual([
      {
        AnnotationValue: { StringValue: 'acme' },
        ServiceIds: [
          { Name: 'api', Names: ['api'] },
          { Name: 'payments', Names: ['payments'] },
        ],
      },
    ]);
    expect(summary.Annotations.retries?.[0]?.AnnotationValue).toEqual({ NumberValue: 2 });
    expect(summary.Annotations.paid?.[0]?.AnnotationValue).toEqual({ BooleanValue: true });
  });

  it('names the farthest-downstream faulting service as the root cause, with the path to its exception', () => {
    const trace = twoServiceTrace({ fault: true });
    const summary = summarizeTrace(assembleTrace(trace.id, trace.documents));
    expect(summary.FaultRootCauses).toHaveLength(1);
    const [cause] = summary.FaultRootCauses;
    expect(cause?.ClientImpacting).toBe(true);
    expect(cause?.Services?.map((s) => [s.Name, s.Type, s.Inferred])).toEqual([
      ['DynamoDB', 'AWS::DynamoDB::Table', true],
    ]);
    expect(cause?.Services?.[0]?.EntityPath?.map((step) => step.Name)).toEqual(['DynamoDB']);
  });

  it('follows the entity path down to the subsegment that holds the exception', () => {
    const id = traceId();
    const failing = subsegment({
      name: 'db-query',
      fault: true,
      cause: { exceptions: [{ type: 'Timeout', message: 'took 30 s', remote: true }] },
    });
    const root = segment({
      trace_id: id,
      fault: true,
      subsegments: [subsegment({ name: 'handler', fault: true, subsegments: [failing] })],
    });
    const [cause] = summarizeTrace(assembleTrace(id, [root])).FaultRootCauses;
    expect(cause?.Services?.[0]?.EntityPath).toEqual([
      { Name: 'api' },
      { Name: 'handler' },
      { Name: 'db-query', Exceptions: [{ Name: 'Timeout', Message: 'took 30 s' }], Remote: true },
    ]);
  });

  it('reports an error root cause that did not reach the client', () => {
    const id = traceId();
    const call = subsegment({
      name: 'search',
      namespace: 'remote',
      error: true,
      http: { response: { status: 404 } },
    });
    const root = segment({ trace_id: id, subsegments: [call] });
    const summary = summarizeTrace(assembleTrace(id, [root]));
    expect(summary.HasError).toBe(false);
    expect(summary.ErrorRootCauses.map((c) => [c.Services?.[0]?.Name, c.ClientImpacting])).toEqual([
      ['search', false],
    ]);
    expect(summary.FaultRootCauses).toEqual([]);
  });

  it("lists each service once by name, type and account, in order of their segments' start times", () => {
    const id = traceId();
    const t = 1_700_000_000;
    const api = segment({
      trace_id: id,
      name: 'api',
      start_time: t,
      user: 'alice',
      annotations: { tenant: 'acme', n: 1 },
    });
    const documents = [
      api,
      segment({
        trace_id: id,
        start_time: t + 1,
        name: 'api',
        parent_id: api.id,
        user: 'alice',
        annotations: { tenant: 'acme' },
      }),
      segment({
        trace_id: id,
        start_time: t + 2,
        name: 'worker',
        origin: 'AWS::ECS::Container',
        parent_id: api.id,
        annotations: { n: '1' },
      }),
      segment({
        trace_id: id,
        start_time: t + 3,
        name: 'api',
        origin: 'AWS::EC2::Instance',
        parent_id: api.id,
        user: 'alice',
      }),
      segment({
        trace_id: id,
        start_time: t + 4,
        name: 'worker',
        origin: 'AWS::ECS::Container',
        parent_id: api.id,
        aws: { account_id: '123456789012' },
      }),
    ];
    const summary = summarizeTrace(assembleTrace(id, documents));
    const api2 = { Name: 'api', Names: ['api'], Type: 'AWS::EC2::Instance' };
    const worker = { Name: 'worker', Names: ['worker'], Type: 'AWS::ECS::Container' };
    expect(summary.ServiceIds).toEqual([
      { Name: 'api', Names: ['api'] },
      worker,
      api2,
      { ...worker, AccountId: '123456789012' },
    ]);
    expect(summary.Users).toEqual([
      { UserName: 'alice', ServiceIds: [{ Name: 'api', Names: ['api'] }, api2] },
    ]);
    expect(summary.Annotations.tenant).toEqual([
      { AnnotationValue: { StringValue: 'acme' }, ServiceIds: [{ Name: 'api', Names: ['api'] }] },
    ]);
    // 1 and "1" are two values of one key.
    expect(summary.Annotations.n).toEqual([
      { AnnotationValue: { NumberValue: 1 }, ServiceIds: [{ Name: 'api', Names: ['api'] }] },
      { AnnotationValue: { StringValue: '1' }, ServiceIds: [worker] },
    ]);
  });

  it('collects users with their services', () => {
    const id = traceId();
    const summary = summarizeTrace(assembleTrace(id, [segment({ trace_id: id, user: 'alice' })]));
    expect(summary.Users).toEqual([{ UserName: 'alice', ServiceIds: [{ Name: 'api', Names: ['api'] }] }]);
  });
});
