import { describe, expect, it } from 'vitest';
import { detectInsights } from '../../../lib/insights/detect.js';
import { insightSchemaValidator } from '../../helpers/insight-schema.js';
import { at, series } from '../../helpers/buckets.js';

describe('the insight event JSON Schema', () => {
  it('accepts every event the detector emits: opened, updated, closed, grouped', async () => {
    const validate = await insightSchemaValidator();
    const buckets = [
      ...series('frontend', 80, (i) => (i >= 29 && i < 40 ? { faults: 60 } : {})),
      ...series('payments', 80, (i) =>
        i >= 30 && i < 34 ? { faults: 20 } : i >= 34 && i < 40 ? { faults: 120 } : {},
      ),
      ...series('search', 80, (i) => (i >= 50 && i < 60 ? { p95: 2 } : {})),
    ];
    const events = detectInsights(buckets, {
      from: at(12),
      to: at(80),
      edges: [{ caller: 'frontend', callee: 'payments' }],
    });
    expect(new Set(events.map((e) => e.Detail.Event.Summary.split(':')[0]))).toEqual(
      new Set(['Insight opened', 'Root cause is now payments', 'Impact changed', 'Insight closed']),
    );
    for (const entry of events) expect(validate(entry), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects an event missing its root cause or with an unknown category', async () => {
    const validate = await insightSchemaValidator();
    const [entry] = detectInsights(
      series('checkout', 60, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {})),
      {
        from: at(12),
        to: at(60),
      },
    );
    const { RootCauseServiceId: _, ...noRoot } = entry!.Detail;
    expect(validate({ ...entry, Detail: noRoot })).toBe(false);
    expect(validate({ ...entry, Detail: { ...entry!.Detail, Categories: ['SLOW'] } })).toBe(false);
    expect(validate({ ...entry, Detail: { ...entry!.Detail, State: 'CLOSED' } })).toBe(false); // no EndTime
  });
});
