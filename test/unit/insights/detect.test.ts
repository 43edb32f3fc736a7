import { describe, expect, it } from 'vitest';
import { BUCKET_SECONDS, type Bucket, detectInsights } from '../../../lib/insights/detect.js';
import { INSIGHT_DETAIL_TYPE } from '../../../lib/insights/events.js';

const T0 = 1_800_000_000 - (1_800_000_000 % BUCKET_SECONDS);
/** A service with `n` buckets of steady traffic; `shape(i)` overrides bucket i. */
function series(service: string, n: number, shape: (i: number) => Partial<Bucket> = () => ({})): Bucket[] {
  return Array.from({ length: n }, (_, i) => ({
    service,
    bucket: T0 + i * BUCKET_SECONDS,
    requests: 200,
    errors: 2,
    faults: i % 10 === 0 ? 1 : 0,
    throttles: 0,
    p95: 0.2 + 0.01 * Math.sin(i),
    ...shape(i),
  }));
}
const at = (i: number) => T0 + i * BUCKET_SECONDS;

describe('detectInsights', () => {
  it('opens a fault insight after two anomalous buckets and closes it after three normal ones', () => {
    const buckets = series('checkout', 60, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {}));
    const events = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(events.map((e) => [e.Detail.State, e.Detail.Categories[0], e.Time])).toEqual([
      ['ACTIVE', 'FAULT', new Date(at(31) * 1000).toISOString()],
      ['CLOSED', 'FAULT', new Date(at(38) * 1000).toISOString()],
    ]);
    const [active, closed] = events;
    expect(active!.DetailType).toBe(INSIGHT_DETAIL_TYPE);
    expect(active!.Detail).toMatchObject({
      StartTime: new Date(at(30) * 1000).toISOString(),
      RootCauseServiceId: { Name: 'checkout' },
      Metric: { Name: 'fault_rate', Unit: 'Percent' },
    });
    expect(active!.Detail.Metric.Observed).toBeCloseTo(30, 6);
    expect(closed!.Detail).toMatchObject({
      InsightId: active!.Detail.InsightId,
      EndTime: new Date(at(36) * 1000).toISOString(),
    });
  });

  it('ignores a one-bucket blip and a traffic surge with healthy rates', () => {
    const buckets = series('checkout', 60, (i) =>
      i === 30 ? { p95: 2.0 } : i >= 40 && i < 46 ? { requests: 1000, errors: 10, faults: 1 } : {},
    );
    expect(detectInsights(buckets, { from: at(12), to: at(60) })).toEqual([]);
  });

  it('opens a latency insight on a sustained slowdown, and replays to the same insight ids', () => {
    const buckets = series('payments', 60, (i) => (i >= 30 && i < 40 ? { p95: 0.6 } : {}));
    const first = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(first.map((e) => [e.Detail.State, e.Detail.Categories[0]])).toEqual([
      ['ACTIVE', 'LATENCY'],
      ['CLOSED', 'LATENCY'],
    ]);
    expect(detectInsights(buckets, { from: at(12), to: at(60) }).map((e) => e.Detail.InsightId)).toEqual(
      first.map((e) => e.Detail.InsightId),
    );
  });
});
