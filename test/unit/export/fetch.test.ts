import { describe, expect, it } from 'vitest';
import { RetriesExhaustedError } from '../../../lib/export/errors.js';
import { classify, DEFAULT_FETCH_OPTIONS, fetchTraces, newCallStats } from '../../../lib/export/fetch.js';
import type { RawTrace, TraceSource } from '../../../lib/xray/source.js';

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottledException',
    $metadata: { httpStatusCode: 429 },
  });
const serverError = () =>
  Object.assign(new Error('oops'), { name: 'ServiceUnavailableException', $fault: 'server' });
const options = { ...DEFAULT_FETCH_OPTIONS, baseDelayMs: 0, maxDelayMs: 0, sleep: async () => {} };
const trace = (id: string): RawTrace => ({ id, limitExceeded: false, documents: [{ id: 'd', text: '{}' }] });

describe('fetchTraces', () => {
  it('asks for 5 ids a call and returns every trace', async () => {
    const asked: string[][] = [];
    const source: TraceSource = {
      listPage: async () => ({ refs: [] }),
      batchGet: async (ids) => (asked.push([...ids]), { traces: ids.map(trace), unprocessed: [] }),
    };
    const got: string[] = [];
    const ids = Array.from({ length: 23 }, (_, i) => `t${i}`);
    await fetchTraces(source, ids, (t) => void got.push(t.id), options, newCallStats());
    expect(asked.map((a) => a.length)).toEqual([5, 5, 5, 5, 3]);
    expect(got.sort()).toEqual([...ids].sort());
  });

  it('halves its concurrency on throttling and grows it back on success', async () => {
    let active = 0;
    let peak = 0;
    const peaks: number[] = [];
    let calls = 0;
    const source: TraceSource = {
      listPage: async () => ({ refs: [] }),
      batchGet: async (ids) => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((r) => setTimeout(r, 1));
        active--;
        calls++;
        if (calls % 25 === 0) {
          peaks.push(peak);
          peak = 0;
        }
        if (calls >= 40 && calls < 48) throw throttled();
        return { traces: ids.map(trace), unprocessed: [] };
      },
    };
    const stats = newCallStats();
    await fetchTraces(
      source,
      Array.from({ length: 600 }, (_, i) => `t${i}`),
      () => {},
      { ...options, initialConcurrency: 2, maxConcurrency: 8 },
      stats,
    );
    expect(stats.throttles).toBe(8);
    expect(Math.max(...peaks)).toBeLessThanOrEqual(8);
    expect(peaks.at(-1)).toBeGreaterThan(2);
  });

  it('retries unprocessed ids, then reports those that never came', async () => {
    let round = 0;
    const source: TraceSource = {
      listPage: async () => ({ refs: [] }),
      batchGet: async (ids) => {
        round++;
        const missing = ids.filter((id) => id === 'never' || (id === 'late' && round < 3));
        return { traces: ids.filter((id) => !missing.includes(id)).map(trace), unprocessed: missing };
      },
    };
    const got: string[] = [];
    const { unprocessed } = await fetchTraces(
      source,
      ['a', 'late', 'never'],
      (t) => void got.push(t.id),
      options,
      newCallStats(),
    );
    expect(got.sort()).toEqual(['a', 'late']);
    expect(unprocessed).toEqual(['never']);
  });

  it('treats an id left out of the response altogether as unprocessed: asked again, then reported', async () => {
    const asked: string[][] = [];
    const source: TraceSource = {
      listPage: async () => ({ refs: [] }),
      // Neither a trace nor unprocessed (a trace expired between its listing and its fetch, say).
      batchGet: async (ids) => (
        asked.push([...ids]),
        { traces: ids.filter((id) => id !== 'gone').map(trace), unprocessed: [] }
      ),
    };
    const got: string[] = [];
    const { unprocessed } = await fetchTraces(
      source,
      ['a', 'gone', 'b'],
      (t) => void got.push(t.id),
      options,
      newCallStats(),
    );
    expect(got.sort()).toEqual(['a', 'b']);
    expect(unprocessed).toEqual(['gone']);
    expect(asked).toEqual([['a', 'gone', 'b'], ['gone'], ['gone']]);
  });

  it('gives up after its attempts with an error naming the call, and never on a fatal error silently', async () => {
    const failing: TraceSource = {
      listPage: async () => ({ refs: [] }),
      batchGet: async () => Promise.reject(serverError()),
    };
    await expect(
      fetchTraces(failing, ['a'], () => {}, { ...options, maxAttempts: 3 }, newCallStats()),
    ).rejects.toThrow(RetriesExhaustedError);
    await expect(
      fetchTraces(failing, ['a'], () => {}, { ...options, maxAttempts: 3 }, newCallStats()),
    ).rejects.toThrow(/BatchGetTraces failed 3 times/);
    const denied: TraceSource = {
      listPage: async () => ({ refs: [] }),
      batchGet: async () =>
        Promise.reject(
          Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' }),
        ),
    };
    await expect(fetchTraces(denied, ['a'], () => {}, options, newCallStats())).rejects.toThrow('denied');
  });

  it('classifies SDK errors', () => {
    expect(classify(throttled())).toBe('throttle');
    expect(classify(serverError())).toBe('server');
    expect(classify(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('network');
    expect(classify(new Error('InvalidRequestException'))).toBe('fatal');
  });
});
