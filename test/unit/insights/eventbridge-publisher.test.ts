import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { detectInsights } from '../../../lib/insights/detect.js';
import { PublishError } from '../../../lib/insights/errors.js';
import type { InsightEntry } from '../../../lib/insights/events.js';
import {
  batchEntries,
  entrySize,
  EventBridgePublisher,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
} from '../../../lib/insights/eventbridge-publisher.js';
import { at, series } from '../../helpers/buckets.js';

const eventbridge = mockClient(EventBridgeClient);
afterEach(() => eventbridge.reset());
const noWait = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };

/** `n` real insight events (one service each), with distinct ids. */
function entries(n: number): InsightEntry[] {
  const buckets = Array.from({ length: n }, (_, s) =>
    series(`svc-${s}`, 40, (i) => (i >= 30 && i < 33 ? { faults: 60 } : {})),
  ).flat();
  return detectInsights(buckets, { from: at(12), to: at(40) }).filter((e) => e.Detail.State === 'ACTIVE');
}

describe('EventBridgePublisher', () => {
  it('sends at most 10 entries a call, to the bus, with the contract’s source and detail type', async () => {
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
    }));
    const publisher = new EventBridgePublisher(
      'insights',
      new EventBridgeClient({ region: 'us-east-1' }),
      noWait,
    );
    const sent = entries(23);
    await publisher.publish(sent);
    const calls = eventbridge.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    const first = calls[0]![0]!;
    expect(first).toMatchObject({
      EventBusName: 'insights',
      Source: 'xray-lake',
      DetailType: 'Trace Insight Update',
    });
    expect(JSON.parse(first.Detail!)).toEqual(sent[0]!.Detail);
    expect(publisher.stats).toMatchObject({ calls: 3, published: 23 });
  });

  it('splits by EventBridge’s size accounting before 256 KB', () => {
    const big = (kb: number): PutEventsRequestEntry => ({
      Source: 'xray-lake',
      DetailType: 'Trace Insight Update',
      Time: new Date(),
      Detail: JSON.stringify({ InsightId: 'x', pad: 'a'.repeat(kb * 1024) }),
    });
    expect(entrySize(big(1))).toBe(14 + 9 + 20 + big(1).Detail!.length);
    const batches = batchEntries([big(100), big(100), big(100), big(1)]);
    expect(batches.map((b) => b.length)).toEqual([2, 2]);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(PUT_EVENTS_MAX_ENTRIES);
      expect(batch.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    }
    expect(() => batchEntries([big(300)])).toThrow(PublishError);
  });

  it('retries throttled entries and whole throttled calls, and reports entries that can never go', async () => {
    const sent = entries(3);
    const [a, b, c] = sent.map((e) => e.Detail.InsightId);
    eventbridge
      .on(PutEventsCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: '1' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' },
          { ErrorCode: 'AccessDeniedException', ErrorMessage: 'not on this bus' },
        ],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });
    const publisher = new EventBridgePublisher(
      'insights',
      new EventBridgeClient({ region: 'us-east-1' }),
      noWait,
    );
    const error = await publisher.publish(sent).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as PublishError).failed).toEqual([
      { insightId: c, code: 'AccessDeniedException', message: 'not on this bus', retryable: false },
    ]);
    const calls = eventbridge
      .commandCalls(PutEventsCommand)
      .map((call) =>
        call.args[0].input.Entries!.map((e) => (JSON.parse(e.Detail!) as { InsightId: string }).InsightId),
      );
    expect(calls).toEqual([[a, b, c], [a, b, c], [b]]);
    expect(publisher.stats).toMatchObject({ published: 2, throttles: 1 });
  });

  it('delivers the other entries when one is too big for the bus, and reports that one as refused for good', async () => {
    const sent = entries(3);
    (sent[1]!.Detail as unknown as { pad: string }).pad = 'a'.repeat(300 * 1024);
    eventbridge.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: input.Entries.map(() => ({})),
    }));
    const publisher = new EventBridgePublisher(
      'insights',
      new EventBridgeClient({ region: 'us-east-1' }),
      noWait,
    );
    const error = await publisher.publish(sent).catch((e: unknown) => e);
    expect((error as PublishError).failed).toEqual([
      {
        insightId: sent[1]!.Detail.InsightId,
        code: 'EntryTooLarge',
        message: expect.stringMatching(/ > 262144$/),
        retryable: false,
      },
    ]);
    const delivered = eventbridge
      .commandCalls(PutEventsCommand)
      .flatMap((call) =>
        call.args[0].input.Entries!.map((e) => (JSON.parse(e.Detail!) as { InsightId: string }).InsightId),
      );
    expect(delivered).toEqual([sent[0]!.Detail.InsightId, sent[2]!.Detail.InsightId]);
  });
});
