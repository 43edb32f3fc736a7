import { Readable } from 'node:stream';
import { BatchGetTracesCommand, GetTraceSummariesCommand, XRayClient } from '@aws-sdk/client-xray';
import { describe, expect, it } from 'vitest';
import { TrafficGenerator } from '../../../lib/local/simulator/generate.js';
import { DEFAULT_SCENARIO } from '../../../lib/local/simulator/scenario.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import { XRayTraceSource } from '../../../lib/xray/xray-source.js';
import { fixture } from '../../helpers/fixtures.js';

interface Canned {
  status?: number;
  body: string;
  headers?: Record<string, string>;
}

/**
 * A real XRayClient whose HTTP handler answers from `answer`: the SDK's whole middleware stack runs
 * (signing, deserialization, errors), only the network is replaced.
 */
function cannedClient(answer: (path: string) => Canned): XRayClient {
  return new XRayClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: { path: string }) => {
        const { status = 200, body, headers = {} } = answer(request.path);
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/json', ...headers },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    } as never,
  });
}

const window = { from: 1_700_000_000, to: 1_700_000_600, timeRangeType: 'TraceId' as const };

/** What the source returned before it read responses itself: the SDK's output, mapped the same way. */
async function refsAsTheSdkReadsThem(client: XRayClient) {
  const page = await client.send(
    new GetTraceSummariesCommand({ StartTime: new Date(0), EndTime: new Date(1000) }),
  );
  return {
    refs: (page.TraceSummaries ?? []).map((s) => ({
      id: s.Id,
      revision: s.Revision ?? 0,
      startTime: (s.StartTime?.getTime() ?? 0) / 1000,
    })),
    nextToken: page.NextToken,
  };
}

function simulatedSummaries(): string {
  const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], 5);
  const traces = generator.minute(29_500_000).slice(0, 12);
  const summaries = traces.map((t, i) => summarizeTrace(assembleTrace(t.id, t.documents as never), i + 1));
  return JSON.stringify({ TraceSummaries: summaries, ApproximateTime: 1_770_000_000, NextToken: 'page-2' });
}

describe('XRayTraceSource', () => {
  it("lists the summaries' ids, revisions and start times as the SDK deserializes them", async () => {
    for (const body of [fixture('api', 'awsdocs-xray-get-trace-summaries.json'), simulatedSummaries()]) {
      const client = cannedClient(() => ({ body }));
      const expected = await refsAsTheSdkReadsThem(client);
      expect(expected.refs.length).toBeGreaterThan(0);
      const page = await new XRayTraceSource(client).listPage(window);
      expect(page.refs).toEqual(expected.refs);
      expect(page.nextToken).toBe(expected.nextToken);
    }
    // The simulator's summaries carry revisions and start times (the AWS docs' example has neither).
    const page = await new XRayTraceSource(cannedClient(() => ({ body: simulatedSummaries() }))).listPage(
      window,
    );
    expect(page.refs.map((r) => r.revision)).toEqual(page.refs.map((_, i) => i + 1));
    expect(page.refs.every((r) => r.startTime > 1_000_000_000)).toBe(true);
    expect(page.nextToken).toBe('page-2');
  });

  it('fetches traces, their documents verbatim, limit flags and unprocessed ids as the SDK reads them', async () => {
    for (const name of ['awsdocs-xray-batch-get-traces.json', 'awscli-batch-get-traces.json']) {
      const response = JSON.parse(fixture('api', name)) as {
        Traces: { Id: string; LimitExceeded?: boolean }[];
        UnprocessedTraceIds: string[];
      };
      response.Traces[0]!.LimitExceeded = true;
      response.UnprocessedTraceIds = ['1-5759e988-bd862e3fe1be46a994272799'];
      const client = cannedClient(() => ({ body: JSON.stringify(response) }));
      const full = await client.send(new BatchGetTracesCommand({ TraceIds: ['a'] }));
      const fetched = await new XRayTraceSource(client).batchGet(['a']);
      expect(fetched.traces).toEqual(
        full.Traces!.map((t) => ({
          id: t.Id,
          limitExceeded: t.LimitExceeded === true,
          documents: t.Segments!.map((s) => ({ id: s.Id, text: s.Document })),
        })),
      );
      expect(fetched.traces[0]!.limitExceeded).toBe(true);
      expect(fetched.traces[0]!.documents.length).toBeGreaterThan(0);
      expect(fetched.unprocessed).toEqual(['1-5759e988-bd862e3fe1be46a994272799']);
    }
  });

  it('keeps the errors the SDK makes of a failed call: throttling is a ThrottledException', async () => {
    const client = cannedClient(() => ({
      status: 429,
      body: JSON.stringify({ message: 'Rate exceeded' }),
      headers: { 'x-amzn-errortype': 'ThrottledException' },
    }));
    const source = new XRayTraceSource(client);
    await expect(source.listPage(window)).rejects.toMatchObject({ name: 'ThrottledException' });
    await expect(source.batchGet(['a'])).rejects.toMatchObject({ name: 'ThrottledException' });
  });

  it('fails on a successful status with a body that is not JSON, as the SDK does', async () => {
    const client = cannedClient(() => ({ body: '<html>proxy error</html>' }));
    const sdk = await client
      .send(new GetTraceSummariesCommand({ StartTime: new Date(0), EndTime: new Date(1000) }))
      .then(
        () => 'resolved',
        (error: Error) => error.name,
      );
    expect(sdk).not.toBe('resolved');
    await expect(new XRayTraceSource(client).listPage(window)).rejects.toMatchObject({ name: sdk });
    await expect(new XRayTraceSource(client).batchGet(['a'])).rejects.toBeInstanceOf(Error);
  });

  it('leaves other commands on the same client as they were: every field of the response', async () => {
    const client = cannedClient(() => ({ body: fixture('api', 'awsdocs-xray-get-trace-summaries.json') }));
    await new XRayTraceSource(client).listPage(window);
    const page = await client.send(
      new GetTraceSummariesCommand({ StartTime: new Date(0), EndTime: new Date(1000) }),
    );
    expect(page.TraceSummaries![0]!.Http?.HttpMethod).toBe('POST');
    expect(page.TracesProcessedCount).toBe(2);
  });
});
