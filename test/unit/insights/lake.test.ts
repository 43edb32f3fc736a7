import { describe, expect, it } from 'vitest';
import { readBuckets } from '../../../lib/insights/lake.js';
import type { QueryEngine, Row } from '../../../lib/query/engine.js';

/** An engine that answers every query with these rows, and keeps the SQL it was asked. */
function rowsEngine(rows: Row[]): QueryEngine & { sql: string[] } {
  const sql: string[] = [];
  return {
    name: 'rows',
    sql,
    async query(text: string) {
      sql.push(text);
      return { rows, stats: { engine: 'rows', seconds: 0 } };
    },
    async close() {},
  };
}

describe('readBuckets', () => {
  it('merges the two rows of a bucket that straddles an hour partition into one', async () => {
    const row = (hour: string, requests: number, p95: number, bins: string): Row => ({
      service: 'payments',
      bucket: 1_800_000_000,
      requests,
      errors: 1,
      faults: 2,
      throttles: 0,
      p50: p95 / 2,
      p95,
      latency_bins: bins,
      hour,
    });
    const engine = rowsEngine([
      row('14', 2, 0.9, '{"10":1,"19":1}'),
      row('15', 40, 0.3, '{"10":30,"16":10}'),
      { ...row('15', 5, 0.2, '{"12":5}'), service: 'cards' },
    ]);
    const buckets = await readBuckets(engine, 1_800_000_000 - 300, 1_800_000_300);
    expect(engine.sql[0]).toContain('latency_bins FROM service_buckets');
    expect(buckets).toHaveLength(2);
    const payments = buckets.find((b) => b.service === 'payments')!;
    expect(payments).toMatchObject({ requests: 42, errors: 2, faults: 4, throttles: 0, p95: 0.3, p50: 0.15 });
    expect(JSON.parse(payments.latencyBins!)).toEqual({ '10': 31, '16': 10, '19': 1 });
    expect(buckets.find((b) => b.service === 'cards')).toMatchObject({
      requests: 5,
      latencyBins: '{"12":5}',
    });
  });

  it('reads a lake written before the histogram and p50 as buckets without them', async () => {
    const engine = rowsEngine([
      { service: 'a', bucket: 1_800_000_000, requests: 3, errors: 0, faults: 0, throttles: 0, p95: 0.1 },
    ]);
    expect(await readBuckets(engine)).toEqual([
      expect.objectContaining({ service: 'a', requests: 3, p95: 0.1, p50: null, latencyBins: null }),
    ]);
  });
});
