import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeParquet } from '../../../lib/lake/parquet.js';
import { traceToRows } from '../../../lib/lake/schema.js';
import { TrafficGenerator } from '../../../lib/local/simulator/generate.js';
import { Random } from '../../../lib/local/simulator/random.js';
import { DEFAULT_SCENARIO } from '../../../lib/local/simulator/scenario.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { derivedEntityId } from '../../../lib/xray/ids.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import type { SegmentDocument } from '../../../lib/xray/types.js';
import { dynamoCall, entityId, segment, subsegment, traceId } from '../../helpers/segments.js';

describe('assembleTrace', () => {
  it('attaches a subsegment sent on its own under the subsegment named by parent_id', () => {
    const id = traceId();
    const inner = subsegment({ name: 'handler' });
    const root = segment({ trace_id: id, subsegments: [inner] });
    const independent: SegmentDocument = {
      ...subsegment({ name: 'late-work' }),
      trace_id: id,
      type: 'subsegment',
      parent_id: inner.id,
    };

    const trace = assembleTrace(id, [root, independent]);

    expect(trace.orphans).toEqual([]);
    const attached = trace.segments[0]!.subsegments![0]!.subsegments![0]!;
    expect(attached.name).toBe('late-work');
    expect(attached).not.toHaveProperty('trace_id');
    expect(attached).not.toHaveProperty('type');
  });

  it('attaches chains of independent subsegments whatever order they arrive in', () => {
    const id = traceId();
    const root = segment({ trace_id: id });
    const first: SegmentDocument = {
      ...subsegment({ name: 'first' }),
      trace_id: id,
      type: 'subsegment',
      parent_id: root.id,
    };
    const second: SegmentDocument = {
      ...subsegment({ name: 'second' }),
      trace_id: id,
      type: 'subsegment',
      parent_id: first.id,
    };

    const trace = assembleTrace(id, [second, root, first]);

    expect(trace.orphans).toEqual([]);
    expect(trace.segments[0]!.subsegments![0]!.subsegments![0]!.name).toBe('second');
  });

  it('keeps a subsegment whose parent never arrived as an orphan', () => {
    const id = traceId();
    const orphan: SegmentDocument = {
      ...subsegment(),
      trace_id: id,
      type: 'subsegment',
      parent_id: entityId(),
    };
    const trace = assembleTrace(id, [segment({ trace_id: id }), orphan]);
    expect(trace.orphans).toEqual([orphan]);
  });

  it('replaces an in-progress document with its complete version, and never the reverse', () => {
    const id = traceId();
    const complete = segment({ trace_id: id, name: 'complete' });
    const inProgress: SegmentDocument = {
      ...complete,
      name: 'in-progress',
      end_time: undefined,
      in_progress: true,
    };
    delete inProgress.end_time;

    expect(assembleTrace(id, [inProgress, complete]).segments.map((s) => s.name)).toEqual(['complete']);
    expect(assembleTrace(id, [complete, inProgress]).segments.map((s) => s.name)).toEqual(['complete']);
  });

  it('infers a node for aws and remote calls, except where the callee traced itself', () => {
    const id = traceId();
    const start = Date.now() / 1000 - 60;
    const dynamo = dynamoCall(start);
    const tracedCall = subsegment({ name: 'payments', namespace: 'remote' });
    const untracedCall = subsegment({
      name: 'cards.example.net',
      namespace: 'remote',
      http: { response: { status: 502 } },
      fault: true,
    });
    const root = segment({ trace_id: id, subsegments: [dynamo, tracedCall, untracedCall] });
    const callee = segment({ trace_id: id, name: 'payments', parent_id: tracedCall.id });

    const trace = assembleTrace(id, [root, callee]);

    expect(trace.inferred.map((s) => [s.name, s.origin, s.parent_id, s.fault ?? false])).toEqual([
      ['DynamoDB', 'AWS::DynamoDB::Table', dynamo.id, false],
      ['cards.example.net', undefined, untracedCall.id, true],
    ]);
    // The same trace read twice gives the same inferred ids: re-exports stay idempotent.
    expect(assembleTrace(id, [root, callee]).inferred.map((s) => s.id)).toEqual(
      trace.inferred.map((s) => s.id),
    );
  });

  it('derives inferred ids that stay what earlier versions wrote to the lake', () => {
    // The first 16 hex digits of SHA-1 over the parts joined by NUL, as every release so far has written
    // them: a different id for the same inferred segment would make a re-export add a second row.
    expect(derivedEntityId('1-5759e988-bd862e3fe1be46a994272793', '53995c3f42cd8ad8', 'inferred')).toBe(
      createHash('sha1')
        .update('1-5759e988-bd862e3fe1be46a994272793\u000053995c3f42cd8ad8\u0000inferred')
        .digest('hex')
        .slice(0, 16),
    );
    expect(derivedEntityId('53995c3f42cd8ad8', 'DynamoDB', 'remote')).toBe('4df8596fd58123a3');
    expect(derivedEntityId('a', 'é')).toBe('933529fb38351fbc');
  });

  it('gives the same trace, rows and file bytes whatever order the documents arrive in', () => {
    const random = new Random(4);
    const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], 4);
    const exported = (order: (documents: SegmentDocument[]) => SegmentDocument[]) => {
      const rows = generator.minute(29_400_000).flatMap((trace) => {
        const assembled = assembleTrace(trace.id, order([...trace.documents]));
        return [traceToRows(assembled, summarizeTrace(assembled), { exportedAt: 0 })];
      });
      return {
        rows,
        traces: encodeParquet(
          'traces',
          rows.map((r) => r.trace),
        ),
        segments: encodeParquet(
          'segments',
          rows.flatMap((r) => r.segments),
        ),
      };
    };
    const shuffle = (documents: SegmentDocument[]) => {
      for (let i = documents.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [documents[i], documents[j]] = [documents[j]!, documents[i]!];
      }
      return documents;
    };
    const inOrder = exported((documents) => documents);
    const reversed = exported((documents) => documents.reverse());
    const shuffled = exported(shuffle);
    expect(inOrder.rows.length).toBeGreaterThan(3);
    // Conflicting annotation values (a trace's first recorded value wins) are where order showed.
    expect(reversed.rows).toEqual(inOrder.rows);
    expect(shuffled.rows).toEqual(inOrder.rows);
    expect(Buffer.from(shuffled.segments).equals(Buffer.from(inOrder.segments))).toBe(true);
    expect(Buffer.from(shuffled.traces).equals(Buffer.from(inOrder.traces))).toBe(true);
  });

  it('leaves its input documents unchanged', () => {
    const id = traceId();
    const root = segment({ trace_id: id });
    const independent: SegmentDocument = {
      ...subsegment(),
      trace_id: id,
      type: 'subsegment',
      parent_id: root.id,
    };
    const before = structuredClone([root, independent]);
    assembleTrace(id, [root, independent]);
    expect([root, independent]).toEqual(before);
  });
});
