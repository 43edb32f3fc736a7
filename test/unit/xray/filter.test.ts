import { describe, expect, it } from 'vitest';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { FilterExpressionError } from '../../../lib/xray/errors.js';
import { compileFilter } from '../../../lib/xray/filter.js';
import { summarizeTrace } from '../../../lib/xray/summary.js';
import { segment, subsegment, traceId } from '../../helpers/segments.js';

const id = traceId();
const start = 1_700_000_000;
const slowFault = summarizeTrace(
  assembleTrace(id, [
    segment({
      trace_id: id,
      name: 'checkout',
      start_time: start,
      end_time: start + 6,
      fault: true,
      user: 'alice',
      http: {
        request: { method: 'POST', url: 'https://shop.example.com/api/checkout' },
        response: { status: 503 },
      },
      annotations: { tenant: 'acme', items: 3, vip: true },
      subsegments: [subsegment({ name: 'DynamoDB', namespace: 'aws' })],
    }),
  ]),
);
const fastOk = summarizeTrace(
  assembleTrace(traceId(), [
    segment({ start_time: start, end_time: start + 0.1, http: { response: { status: 200 } } }),
  ]),
);

describe('compileFilter', () => {
  it.each([
    ['fault', true, false],
    ['ok', false, true],
    ['!fault', false, true],
    ['fault = false', false, true],
    ['error OR throttle', false, false],
    ['responsetime > 5', true, false],
    ['duration >= 0.1 AND duration < 1', false, true],
    ['http.status = 503', true, false],
    ['http.url CONTAINS "/api/"', true, false],
    ['http.url BEGINSWITH "https://shop"', true, false],
    ['http.method = "POST"', true, false],
    ['user = "alice"', true, false],
    ['service("DynamoDB")', true, false],
    ['annotation.tenant = "acme"', true, false],
    ['annotation.tenant', true, false],
    ['annotation.items > 2 AND annotation.vip = true', true, false],
    ['annotation.tenant ENDSWITH "me"', true, false],
    ['NOT (fault OR error)', false, true],
    ['ok OR fault AND responsetime < 1', false, true],
    ['(ok OR fault) AND responsetime < 1', false, true],
    ['fault and responsetime > 5', true, false],
  ])('%s', (expression, onSlowFault, onFastOk) => {
    const filter = compileFilter(expression);
    expect([filter(slowFault), filter(fastOk)]).toEqual([onSlowFault, onFastOk]);
  });

  it.each([
    ['edge("a", "b")', 0, /unsupported keyword "edge"/],
    ['fault AND', 9, /expected a keyword but found the end/],
    ['responsetime > "slow"', 15, /compares with a number/],
    ['(fault', 6, /expected "\)"/],
    ['http.url = "unterminated', 11, /unterminated string/],
    ['service("a") { fault }', 13, /not supported/],
    ['fault ok', 6, /expected AND, OR or the end/],
    ['annotation.x = [1]', 15, /unexpected character "\["/],
  ])('rejects %s at position %i', (expression, position, reason) => {
    const error = (() => {
      try {
        compileFilter(expression);
      } catch (e) {
        return e;
      }
    })() as FilterExpressionError;
    expect(error).toBeInstanceOf(FilterExpressionError);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(reason);
  });
});
