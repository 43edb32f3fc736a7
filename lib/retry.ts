/**
 * Retrying AWS calls, shared by everything that calls AWS APIs in a loop (the exporter, the simulator):
 * throttling, 5xx and network errors are retried with full-jitter exponential backoff; anything else
 * propagates at once; running out of attempts is an error naming the call.
 */

/** A call kept failing past its retries. */
export class RetriesExhaustedError extends Error {
  constructor(
    readonly operation: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `${operation} failed ${attempts} times; last error: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    this.name = new.target.name;
  }
}

export interface RetryOptions {
  /** Attempts per call before giving up. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Counters a caller reports. */
export interface RetryStats {
  throttles: number;
  serverErrors: number;
  retries: number;
}

export type ErrorKind = 'throttle' | 'server' | 'network' | 'fatal';

/** How an SDK error should be treated: throttling and transient failures are retried, the rest are not. */
export function classify(error: unknown): ErrorKind {
  const e = error as {
    name?: string;
    $fault?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (
    e.name === 'ThrottledException' ||
    e.name === 'ThrottlingException' ||
    e.name === 'TooManyRequestsException' ||
    e.$metadata?.httpStatusCode === 429
  )
    return 'throttle';
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return 'server';
  if (
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(e.code ?? '') ||
    e.name === 'TimeoutError'
  )
    return 'network';
  return 'fatal';
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The wait before retry number `attempt`: full jitter, uniform up to base·2^attempt capped at the maximum,
 * which spreads callers that were throttled together.
 */
export function backoffDelay(options: RetryOptions, attempt: number): number {
  return (options.random ?? Math.random)() * Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
}

/**
 * Calls `operation` until it succeeds, backing off with full jitter (which spreads callers throttled
 * together). Non-retryable errors propagate at once; exhausting the attempts throws
 * {@link RetriesExhaustedError}. `onThrottle` lets a caller adapt its concurrency.
 */
export async function withRetries<T>(
  name: string,
  operation: () => Promise<T>,
  options: RetryOptions,
  stats: RetryStats,
  onThrottle?: () => void,
): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const kind = classify(error);
      if (kind === 'fatal') throw error;
      if (kind === 'throttle') {
        stats.throttles++;
        onThrottle?.();
      } else stats.serverErrors++;
      if (attempt >= options.maxAttempts) throw new RetriesExhaustedError(name, attempt, error);
      stats.retries++;
      await sleep(backoffDelay(options, attempt));
    }
  }
}
