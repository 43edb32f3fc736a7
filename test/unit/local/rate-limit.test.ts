import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, parseRateLimits, RateLimiter } from '../../../lib/local/rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate', () => {
    let clock = 0;
    const limiter = new RateLimiter({ BatchGetTraces: { rate: 5, burst: 2 } }, () => clock);
    expect([
      limiter.take('BatchGetTraces'),
      limiter.take('BatchGetTraces'),
      limiter.take('BatchGetTraces'),
    ]).toEqual([true, true, false]);
    clock += 0.2;
    expect(limiter.take('BatchGetTraces')).toBe(true);
    expect(limiter.take('BatchGetTraces')).toBe(false);
    expect(limiter.take('GetServiceGraph')).toBe(true);
  });

  it('charges PutTraceSegments by documents', () => {
    const limiter = new RateLimiter({ PutTraceSegments: { rate: 1, burst: 100 } }, () => 0);
    expect(limiter.take('PutTraceSegments', 60)).toBe(true);
    expect(limiter.take('PutTraceSegments', 60)).toBe(false);
  });
});

describe('parseRateLimits', () => {
  it('reads default, off and overrides', () => {
    expect(parseRateLimits('default')).toEqual(DEFAULT_RATE_LIMITS);
    expect(parseRateLimits('off')).toEqual({});
    const limits = parseRateLimits('GetTraceSummaries=2/4,PutTraceSegments=off');
    expect(limits.GetTraceSummaries).toEqual({ rate: 2, burst: 4 });
    expect(limits.PutTraceSegments).toBeUndefined();
    expect(limits.BatchGetTraces).toEqual(DEFAULT_RATE_LIMITS.BatchGetTraces);
  });

  it.each([
    ['GetTraces=5', /unknown API "GetTraces"/],
    ['BatchGetTraces', /is not API=RATE/],
    ['BatchGetTraces=0', /rate must be above 0/],
  ])('rejects %s naming the problem', (spec, reason) => {
    expect(() => parseRateLimits(spec)).toThrow(reason);
  });
});
