import { describe, expect, it } from 'vitest';
import { RedactionError } from '../../../lib/lake/errors.js';
import { parseRedaction, RedactionRuleError } from '../../../lib/lake/redact.js';
import { type Redactor, traceToRows, typeSafeRedactor } from '../../../lib/lake/schema.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import { segment, subsegment, traceId } from '../../helpers/segments.js';

function rows(redact: string | Redactor) {
  const id = traceId();
  const root = segment({
    trace_id: id,
    user: 'alice@example.com',
    http: { request: { method: 'GET', url: 'https://shop.example.com/orders?email=alice@example.com#top' } },
    annotations: { tenant: 'acme', session: 's-123' },
    metadata: { default: { card: '4111' } },
    subsegments: [
      subsegment({
        fault: true,
        cause: { exceptions: [{ type: 'Boom', message: 'user alice@example.com not found' }] },
      }),
    ],
  });
  const assembled = assembleTrace(id, [root]);
  const redactor = typeof redact === 'string' ? parseRedaction(redact) : redact;
  return traceToRows(assembled, summarizeTrace(assembled), {
    exportedAt: 0,
    ...(redactor && { redact: redactor }),
  });
}

describe('parseRedaction', () => {
  it('strips query strings, users, metadata, exception messages and named annotations from every row', () => {
    const { trace, segments } = rows('http_url:query, users, metadata, cause_message, annotation:session');
    expect(trace.http_url).toBe('https://shop.example.com/orders');
    expect(trace.users).toEqual([]);
    expect(trace.annotations).toEqual({ tenant: 'acme' });
    expect(segments[0]).toMatchObject({
      http_url: 'https://shop.example.com/orders',
      metadata: null,
      annotations: { tenant: 'acme' },
    });
    expect(segments[1]).toMatchObject({ cause_type: 'Boom', cause_message: null });
    expect(JSON.stringify({ trace, segments })).not.toMatch(/alice|4111|s-123/);
  });

  it('drops URLs entirely with http_url, and changes nothing with no rules', () => {
    expect(rows('http_url').trace.http_url).toBeNull();
    expect(rows('').trace.http_url).toMatch(/\?email=/);
  });

  it('names an unknown rule', () => {
    expect(() => parseRedaction('users, emails')).toThrow(RedactionRuleError);
    expect(() => parseRedaction('users, emails')).toThrow(
      /redaction rule "emails": expected one of http_url, http_url:query/,
    );
  });
});

describe('a custom Redactor', () => {
  it('may mask any column it likes, keeping the types', () => {
    const { trace, segments } = rows({
      trace: (row) => ({ ...row, entry_service: 'masked', users: row.users.map(() => '***') }),
      segment: (row) => ({ ...row, name: row.name.toUpperCase(), annotations: {} }),
    });
    expect(trace).toMatchObject({ entry_service: 'masked', users: ['***'] });
    expect(
      segments.every((s) => s.name === s.name.toUpperCase() && Object.keys(s.annotations).length === 0),
    ).toBe(true);
  });

  it('is refused, naming the table, column and trace, when it empties a required column', () => {
    const act = () => rows({ segment: (row) => ({ ...row, segment_id: null as unknown as string }) });
    expect(act).toThrow(RedactionError);
    expect(act).toThrow(
      /segments row of trace 1-[0-9a-f]{8}-[0-9a-f]{24} .*: segment_id is required \(string\), got null/,
    );
  });

  it('is refused when it changes the trace id, which rows are merged and partitioned by', () => {
    expect(() => rows({ trace: (row) => ({ ...row, trace_id: 'anonymous' }) })).toThrow(
      /traces row .*: trace_id must stay 1-.*, got anonymous/,
    );
  });

  it('is refused when it changes a column merges rely on: revision, start or segment count', () => {
    expect(() => rows({ trace: (row) => ({ ...row, segment_count: row.segment_count - 1 }) })).toThrow(
      /traces row .*: segment_count must stay \d+ \(the lake's merges rely on it\), got \d+/,
    );
    expect(() => rows({ trace: (row) => ({ ...row, revision: 0 }) })).toThrow(/revision must stay 1/);
    expect(() => rows({ trace: (row) => ({ ...row, start_time: 0 }) })).toThrow(/start_time must stay/);
    // Changed in place and returned, too.
    expect(() => rows({ trace: (row) => Object.assign(row, { segment_count: 0 }) })).toThrow(
      /segment_count must stay/,
    );
  });

  it('is refused when a column gets the wrong type, down to a map value or list element', () => {
    expect(() => rows({ trace: (row) => ({ ...row, revision: '1' as unknown as number }) })).toThrow(
      /revision must be int64, got string/,
    );
    expect(() =>
      rows({ segment: (row) => ({ ...row, annotations: { tenant: 7 as unknown as string } }) }),
    ).toThrow(/annotations must be map<string,string>, holds 7/);
    expect(() => rows({ trace: (row) => ({ ...row, users: [undefined as unknown as string] }) })).toThrow(
      /users must be list<string>, holds undefined/,
    );
    expect(() => rows({ trace: () => undefined as unknown as never })).toThrow(
      /row must be an object, got undefined/,
    );
  });

  it('goes unchecked when marked type-safe, as the --redact rules are', () => {
    const unchecked = typeSafeRedactor({ trace: (row) => ({ ...row, revision: '1' as unknown as number }) });
    expect(rows(unchecked).trace.revision).toBe('1');
  });
});
