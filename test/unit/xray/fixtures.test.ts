import { describe, expect, it } from 'vitest';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { parseDaemonDatagram } from '../../../lib/xray/daemon.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import {
  parseSegmentDocument,
  validateSegmentDocument,
  validateSubsegment,
} from '../../../lib/xray/validate.js';
import { fixture, fixtureFiles } from '../../helpers/fixtures.js';

/** Documentation fragments of embedded subsegments carry no trace_id; they are summarized inside a host segment. */
function hostSegment(subsegment: object): SegmentDocument {
  return {
    trace_id: '1-5e1b4151-5ac6c58f5e2a6bb9e1a6a8c3',
    id: '70de5b6f19ff9a0a',
    name: 'host',
    start_time: 0,
    end_time: 2e10,
    subsegments: [subsegment as SegmentDocument],
  };
}

describe('real segment documents (shared/fixtures/xray/segments/valid)', () => {
  const files = fixtureFiles('segments', 'valid');

  it('finds the fixtures', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s parses and summarizes', (_name, text) => {
    const value = JSON.parse(text) as Record<string, unknown>;
    let document: SegmentDocument;
    if (typeof value.trace_id === 'string') {
      const result = parseSegmentDocument(text);
      expect(result.ok ? [] : result.problems).toEqual([]);
      document = (result as { document: SegmentDocument }).document;
    } else {
      const result = validateSubsegment(value);
      expect(result.ok ? [] : result.problems).toEqual([]);
      document = hostSegment(value);
    }
    const assembled = assembleTrace(document.trace_id, [document]);
    // A subsegment sent on its own has no parent here: kept and flagged as an orphan, never dropped.
    expect(assembled.orphans.length).toBe(document.type === 'subsegment' ? 1 : 0);
    expect(assembled.segments.length + assembled.orphans.length).toBe(1);
    const summary = summarizeTrace(assembled);
    expect(summary.Id).toBe(document.trace_id);
    expect(summary.Duration).toBeGreaterThanOrEqual(0);
    expect(summary.StartTime).toBe(document.start_time);
    if (document.type !== 'subsegment') expect(summary.EntryPoint?.Name).toBe(document.name);
  });
});

describe('invalid segment documents (shared/fixtures/xray/segments/invalid)', () => {
  const files = fixtureFiles('segments', 'invalid');

  it.each(files)('%s is rejected with a reason', (_name, text) => {
    const result = parseSegmentDocument(text);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.join('\n')).toMatch(/\S+: \S+/);
  });

  it.each([
    [
      'otelcontrib-invalidNamespace.json',
      /subsegments\[0]\.subsegments\[0]\.namespace: expected one of aws, remote, local/,
    ],
    ['otelcontrib-minCauseIsInvalid.json', /^cause: expected an object or an exception id string, got 200/],
    ['otelcontrib-segmentValidationFailed.json', /^start_time: expected a number/],
    ['otelcontrib-indepSubsegmentWithInvalidSqlUrl.json', /^sql\.url: expected a URL with a scheme/],
    ['awsdocs-xray-annotations-segment-trailing-comma.json', /^document: not valid JSON/],
  ])('%s names what is wrong and where', (name, reason) => {
    const result = parseSegmentDocument(fixture('segments', 'invalid', name));
    expect(result.ok ? [] : result.problems).toEqual(expect.arrayContaining([expect.stringMatching(reason)]));
  });
});

describe('BatchGetTraces output from the X-Ray developer guide', () => {
  const response = JSON.parse(fixture('api', 'awsdocs-xray-batch-get-traces.json')) as {
    Traces: { Id: string; Duration: number; Segments: { Id: string; Document: string }[] }[];
  };
  const summaries = JSON.parse(fixture('api', 'awsdocs-xray-get-trace-summaries.json')) as {
    TraceSummaries: {
      Id: string;
      Duration: number;
      ResponseTime: number;
      HasFault: boolean;
      HasError: boolean;
      Http: { HttpStatus: number; HttpMethod: string; HttpURL: string };
      Users: { UserName: string }[];
    }[];
  };

  it('every document validates', () => {
    for (const trace of response.Traces)
      for (const segment of trace.Segments) {
        const result = parseSegmentDocument(segment.Document);
        expect(result.ok ? [] : result.problems).toEqual([]);
      }
  });

  it('re-infers the DynamoDB and SNS segments X-Ray added, from the subsegments alone', () => {
    const trace = response.Traces[0]!;
    const documents = trace.Segments.map((s) => JSON.parse(s.Document) as SegmentDocument);
    const served = documents.filter((d) => d.inferred);
    const sent = documents.filter((d) => !d.inferred);
    const assembled = assembleTrace(trace.Id, sent);
    const ours = assembled.inferred.map((d) => [d.name, d.origin, d.parent_id]).sort();
    expect(ours).toEqual(served.map((d) => [d.name, d.origin, d.parent_id]).sort());
  });

  it('summarizes the trace as GetTraceSummaries did for the same trace id', () => {
    const trace = response.Traces[0]!;
    const expected = summaries.TraceSummaries.find((s) => s.Id === trace.Id)!;
    expect(expected).toBeDefined();
    const documents = trace.Segments.map((s) => JSON.parse(s.Document) as SegmentDocument).filter(
      (d) => !d.inferred,
    );
    const summary = summarizeTrace(assembleTrace(trace.Id, documents));
    expect(summary.Duration).toBeCloseTo(trace.Duration, 6);
    expect(summary.ResponseTime).toBeCloseTo(expected.ResponseTime, 6);
    expect(summary.HasFault).toBe(expected.HasFault);
    expect(summary.HasError).toBe(expected.HasError);
    expect(summary.Http.HttpStatus).toBe(expected.Http.HttpStatus);
    expect(summary.Http.HttpMethod).toBe(expected.Http.HttpMethod);
    expect(summary.Http.HttpURL).toBe(expected.Http.HttpURL);
    expect(summary.Users.map((u) => u.UserName)).toEqual(expected.Users.map((u) => u.UserName));
    expect(summary.EntryPoint?.Name).toBe('Scorekeep');
  });
});

describe('recorded traces (aws-iatk testdata: Step Functions, span links)', () => {
  it.each(['iatk-trace01.json', 'iatk-traceWithLinks01.json'])(
    '%s assembles with its recorded duration',
    (name) => {
      const trace = JSON.parse(fixture('api', name)) as { Id: string; Duration: number; Segments: unknown[] };
      const documents = trace.Segments.map((segment) => {
        const result = validateSegmentDocument(segment);
        expect(result.ok ? [] : result.problems).toEqual([]);
        return segment as SegmentDocument;
      });
      const summary = summarizeTrace(assembleTrace(trace.Id, documents));
      expect(summary.Id).toBe(trace.Id);
      expect(summary.Duration).toBeCloseTo(trace.Duration, 2);
    },
  );
});

describe('daemon datagrams (shared/fixtures/xray/udp)', () => {
  it('splits a header line and a document', () => {
    const datagram = parseDaemonDatagram(fixture('udp', 'awsdocs-xray-daemon-segment-txt.txt'));
    expect(datagram.ok).toBe(true);
    const document = parseSegmentDocument((datagram as { document: string }).document);
    expect(document.ok && document.document.name).toBe('test.elasticbeanstalk.com');
  });

  it('rejects the guide example whose "newline" is the two characters backslash and n', () => {
    const datagram = parseDaemonDatagram(
      fixture('udp', 'awsdocs-xray-daemon-inline-literal-backslash-n.txt').trim(),
    );
    expect(datagram).toEqual({ ok: false, problem: expect.stringMatching(/^datagram: /) });
  });
});
