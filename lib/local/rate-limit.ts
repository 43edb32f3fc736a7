/** The APIs xray-local serves, as the restJson1 paths name them. */
export const API_OPERATIONS = [
  'PutTraceSegments',
  'GetTraceSummaries',
  'BatchGetTraces',
  'GetServiceGraph',
] as const;
export type ApiOperation = (typeof API_OPERATIONS)[number];

/** A token bucket: `rate` tokens a second, holding at most `burst`. */
export interface BucketLimit {
  rate: number;
  burst: number;
}

/** Per-API limits; an API left out is not limited. */
export type RateLimits = Partial<Record<ApiOperation, BucketLimit>>;

/**
 * Defaults meant to resemble a fresh account: the read APIs are the scarce ones (a few calls a second each)
 * and PutTraceSegments is limited by segments rather than calls, so `PutTraceSegments` here counts
 * documents. The figures are assumptions, not quoted from AWS's quota page (not verifiable from here);
 * `--rate-limits` overrides them.
 */
export const DEFAULT_RATE_LIMITS: RateLimits = {
  GetTraceSummaries: { rate: 5, burst: 10 },
  BatchGetTraces: { rate: 5, burst: 10 },
  GetServiceGraph: { rate: 5, burst: 10 },
  PutTraceSegments: { rate: 2_600, burst: 5_200 },
};

/** Token buckets per API. `take` returns false when the call must be throttled. */
export class RateLimiter {
  private readonly state = new Map<ApiOperation, { tokens: number; at: number }>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = () => performance.now() / 1000,
  ) {}

  take(operation: ApiOperation, cost = 1): boolean {
    const limit = this.limits[operation];
    if (!limit) return true;
    const now = this.now();
    const state = this.state.get(operation) ?? { tokens: limit.burst, at: now };
    state.tokens = Math.min(limit.burst, state.tokens + (now - state.at) * limit.rate);
    state.at = now;
    this.state.set(operation, state);
    // A batch larger than the whole bucket could never pass; let it through when the bucket is full.
    const needed = Math.min(cost, limit.burst);
    if (state.tokens < needed) return false;
    state.tokens -= needed;
    return true;
  }
}

/**
 * Parses `--rate-limits`: `default`, `off`, or `API=RATE[/BURST]` pairs separated by commas, applied over the
 * defaults (`GetTraceSummaries=2,PutTraceSegments=off`). Throws naming the bad part.
 */
export function parseRateLimits(spec: string): RateLimits {
  const trimmed = spec.trim();
  if (trimmed === 'default') return { ...DEFAULT_RATE_LIMITS };
  if (trimmed === 'off') return {};
  const limits: RateLimits = { ...DEFAULT_RATE_LIMITS };
  for (const part of trimmed.split(',')) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(off|\d+(?:\.\d+)?)(?:\/(\d+))?\s*$/.exec(part);
    if (!match) throw new Error(`--rate-limits: "${part}" is not API=RATE[/BURST] or API=off`);
    const [, operation, rate, burst] = match;
    if (!(API_OPERATIONS as readonly string[]).includes(operation!))
      throw new Error(`--rate-limits: unknown API "${operation}" (one of ${API_OPERATIONS.join(', ')})`);
    if (rate === 'off') delete limits[operation as ApiOperation];
    else {
      const perSecond = Number(rate);
      if (perSecond <= 0) throw new Error(`--rate-limits: ${operation} rate must be above 0`);
      limits[operation as ApiOperation] = {
        rate: perSecond,
        burst: burst ? Number(burst) : Math.max(1, perSecond * 2),
      };
    }
  }
  return limits;
}
