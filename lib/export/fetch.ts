export { classify, withRetries } from '../retry.js';
import { BATCH_GET_TRACES_MAX_IDS } from '../xray/limits.js';
import type { RawTrace, TraceSource } from '../xray/source.js';
import { defaultSleep, type RetryOptions, withRetries } from '../retry.js';

/** Counters the run report carries (the retry counters, and calls by API). */
export interface CallStats {
  calls: { GetTraceSummaries: number; BatchGetTraces: number };
  throttles: number;
  serverErrors: number;
  retries: number;
}

export const newCallStats = (): CallStats => ({
  calls: { GetTraceSummaries: 0, BatchGetTraces: 0 },
  throttles: 0,
  serverErrors: 0,
  retries: 0,
});

export type { RetryOptions } from '../retry.js';

export interface FetchOptions extends RetryOptions {
  initialConcurrency: number;
  maxConcurrency: number;
  /** Rounds of re-asking for ids BatchGetTraces returned unprocessed, before they are reported. */
  unprocessedRounds: number;
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = {
  initialConcurrency: 4,
  maxConcurrency: 16,
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  unprocessedRounds: 3,
};

/**
 * Fetches traces 5 ids a call with a concurrency that adapts to throttling (additive increase,
 * multiplicative decrease, as TCP does): halved on every ThrottledException, grown by one call's worth
 * per round of successes, within [1, maxConcurrency]. Ids returned unprocessed are asked for again for a
 * few rounds, then reported rather than dropped.
 */
export async function fetchTraces(
  source: TraceSource,
  ids: readonly string[],
  onTrace: (trace: RawTrace) => void | Promise<void>,
  options: FetchOptions,
  stats: CallStats,
): Promise<{ unprocessed: string[] }> {
  let limit = options.initialConcurrency;
  let pending = [...ids];
  for (let round = 0; pending.length > 0; round++) {
    const batches: string[][] = [];
    for (let i = 0; i < pending.length; i += BATCH_GET_TRACES_MAX_IDS)
      batches.push(pending.slice(i, i + BATCH_GET_TRACES_MAX_IDS));
    const unprocessed: string[] = [];
    let active = 0;
    let failure: unknown;
    await new Promise<void>((resolve) => {
      const pump = () => {
        if (failure !== undefined && active === 0) return resolve();
        if (batches.length === 0 && active === 0) return resolve();
        while (failure === undefined && batches.length > 0 && active < Math.max(1, Math.floor(limit))) {
          const batch = batches.shift()!;
          active++;
          withRetries(
            'BatchGetTraces',
            () => {
              stats.calls.BatchGetTraces++;
              return source.batchGet(batch);
            },
            options,
            stats,
            () => {
              limit = Math.max(1, limit / 2);
            },
          )
            .then(async (result) => {
              limit = Math.min(options.maxConcurrency, limit + 1 / Math.max(1, limit));
              unprocessed.push(...result.unprocessed);
              // An id neither returned nor listed as unprocessed is one too (X-Ray documents no such case,
              // but a trace can expire between its listing and its fetch), and so is a trace returned without
              // a single document (still being indexed, its segments gone; one over X-Ray's limit is counted as
              // such where it is converted): nothing to write, and dropped it would be missing from the lake
              // with nothing said. Asked again, then reported.
              const served = result.traces.filter((t) => t.documents.length > 0 || t.limitExceeded);
              const answered = new Set([...result.unprocessed, ...served.map((t) => t.id)]);
              for (const id of batch) if (!answered.has(id)) unprocessed.push(id);
              for (const trace of served) await onTrace(trace);
            })
            .catch((error: unknown) => {
              failure ??= error;
            })
            .finally(() => {
              active--;
              pump();
            });
        }
      };
      pump();
    });
    if (failure !== undefined) throw failure;
    pending = unprocessed;
    if (pending.length === 0 || round + 1 >= options.unprocessedRounds) break;
    await (options.sleep ?? defaultSleep)(options.baseDelayMs * 2 ** round);
  }
  return { unprocessed: pending };
}
