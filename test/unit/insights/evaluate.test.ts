import { describe, expect, it } from 'vitest';
import { bucketsText, evaluate, outcomeText } from '../../../lib/insights/evaluate.js';
import type { InsightEntry } from '../../../lib/insights/events.js';
import type { LabelFile } from '../../../lib/local/simulator/simulate.js';

const labels: LabelFile = {
  scenario: 't',
  seed: 1,
  from: '2026-11-20T00:00:00.000Z',
  to: '2026-11-21T00:00:00.000Z',
  incidents: [
    {
      name: 'faults',
      service: 'checkout',
      node: 'checkout',
      category: 'fault',
      start: '2026-11-20T10:00:00.000Z',
      end: '2026-11-20T10:40:00.000Z',
      magnitude: 0.3,
      shape: 'step',
      decoy: false,
    },
    {
      name: 'slow',
      service: 'payments',
      node: 'payments',
      category: 'latency',
      start: '2026-11-20T12:00:00.000Z',
      end: '2026-11-20T13:00:00.000Z',
      magnitude: 4,
      shape: 'step',
      decoy: false,
    },
    {
      name: 'blip',
      service: 'checkout',
      node: 'checkout',
      category: 'latency',
      start: '2026-11-20T15:00:00.000Z',
      end: '2026-11-20T15:04:00.000Z',
      magnitude: 3,
      shape: 'step',
      decoy: true,
    },
  ],
};
const insight = (
  service: string,
  category: InsightEntry['Detail']['Categories'][number],
  start: string,
  at: string,
): InsightEntry =>
  ({
    Time: at,
    Detail: {
      InsightId: `${service}-${start}`,
      State: 'ACTIVE',
      Categories: [category],
      StartTime: start,
      RootCauseServiceId: { Name: service },
    },
  }) as InsightEntry;

describe('evaluate', () => {
  it('counts hits with their delay, misses, false alarms and alerted decoys', () => {
    const result = evaluate(labels, [
      insight('checkout', 'FAULT', '2026-11-20T10:05:00.000Z', '2026-11-20T10:10:00.000Z'),
      insight('shop-api', 'FAULT', '2026-11-20T10:05:00.000Z', '2026-11-20T10:10:00.000Z'), // an echo left on its own: a second page
      insight('checkout', 'LATENCY', '2026-11-20T15:00:00.000Z', '2026-11-20T15:05:00.000Z'), // the decoy
      insight('reports', 'FAULT', '2026-11-20T20:00:00.000Z', '2026-11-20T20:05:00.000Z'), // nothing happened then
    ]);
    expect(result.incidents.map((o) => [o.name, o.detected, o.delayBuckets])).toEqual([
      ['faults', true, 2],
      ['slow', false, undefined],
      ['blip', true, undefined],
    ]);
    expect(result).toMatchObject({
      recall: 0.5,
      insightsOpened: 4,
      falseAlarms: 3,
      decoysAlerted: 1,
      medianDelayBuckets: 2,
    });
    expect(result.precision).toBeCloseTo(0.25, 12);
    expect(result.incidents.map(outcomeText)).toEqual(['detected, +2 buckets', 'missed', 'false alarm']);
  });

  it('says one bucket of delay in the singular', () => {
    const [first] = evaluate(labels, [
      insight('checkout', 'FAULT', '2026-11-20T10:00:00.000Z', '2026-11-20T10:05:00.000Z'),
    ]).incidents;
    expect(first).toMatchObject({ detected: true, delayBuckets: 1 });
    expect(outcomeText(first!)).toBe('detected, +1 bucket');
    expect([0, 1, 1.5, 2].map(bucketsText)).toEqual(['0 buckets', '1 bucket', '1.5 buckets', '2 buckets']);
  });

  it('credits an insight whose root cause moved to the incident’s service in a later update', () => {
    const opened = insight('shop-api', 'FAULT', '2026-11-20T10:05:00.000Z', '2026-11-20T10:10:00.000Z');
    const update = structuredClone(opened);
    update.Time = '2026-11-20T10:15:00.000Z';
    update.Detail.RootCauseServiceId = { Name: 'checkout' };
    const result = evaluate(labels, [opened, update]);
    expect(result.incidents[0]).toMatchObject({
      detected: true,
      delayBuckets: 2,
      insightIds: [opened.Detail.InsightId],
    });
    expect(result).toMatchObject({ insightsOpened: 1, falseAlarms: 0 });
  });

  it('does not credit an insight of the wrong category', () => {
    expect(
      evaluate(labels, [insight('payments', 'FAULT', '2026-11-20T12:05:00.000Z', '2026-11-20T12:10:00.000Z')])
        .incidents[1]!.detected,
    ).toBe(false);
  });
});
