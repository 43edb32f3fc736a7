import { describe, expect, it } from 'vitest';
import { parseRedaction, RedactionRuleError } from '../../../lib/lake/redact.js';
import { traceToRows } from '../../../lib/lake/schema.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import { segment, subsegment, traceId } from '../../helpers/segments.js';

function rows(redact: string) {
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
  const redactor = parseRedaction(redact);
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
