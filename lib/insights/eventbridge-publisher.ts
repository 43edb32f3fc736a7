import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { backoffDelay, defaultSleep, type RetryOptions, type RetryStats, withRetries } from '../retry.js';
import { PublishError } from './errors.js';
import type { InsightEntry, InsightPublisher } from './events.js';

/**
 * Entries per PutEvents call.
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html ("Array Members: Minimum
 * number of 1 item. Maximum number of 10 items.")
 */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/**
 * Total size of one PutEvents request, as EventBridge counts it.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** Entry error codes worth sending again; anything else (a malformed entry, access denied) never will. */
const RETRYABLE_ENTRY_ERRORS = new Set(['ThrottlingException', 'InternalFailure', 'InternalException']);

/**
 * Entry errors that are the entry's own fault, so sending it again can never succeed: PutEventsResultEntry's
 * non-retryable errors (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html)
 * less those about permissions and accounts (AccessDeniedException, NotAuthorizedFor…, InvalidAccountId…),
 * which fixing the bus or the role cures, plus EntryTooLarge, this publisher's own for an entry over 256 KB.
 */
export const ENTRY_REFUSED_ERRORS: ReadonlySet<string> = new Set([
  'EntryTooLarge',
  'InvalidArgument',
  'MalformedDetail',
  'RedactionFailure',
]);

export const EVENTBRIDGE_RETRY_DEFAULTS: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
};

/**
 * An entry's size as EventBridge counts it (eb-putevent-size.html): 14 bytes for Time, plus the UTF-8
 * bytes of Source, DetailType, Detail and each resource.
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);
  return (
    (entry.Time ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + bytes(r), 0)
  );
}

/** Splits entries into PutEvents calls of at most 10 entries and 256 KB, in order. */
export function batchEntries(entries: readonly PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const batches: PutEventsRequestEntry[][] = [];
  let batch: PutEventsRequestEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const bytes = entrySize(entry);
    if (bytes > PUT_EVENTS_MAX_BYTES)
      throw new PublishError('EventBridge', [
        {
          insightId: insightIdOf(entry),
          code: 'EntryTooLarge',
          message: `${bytes} bytes > ${PUT_EVENTS_MAX_BYTES}`,
        },
      ]);
    if (batch.length === PUT_EVENTS_MAX_ENTRIES || size + bytes > PUT_EVENTS_MAX_BYTES) {
      batches.push(batch);
      batch = [];
      size = 0;
    }
    batch.push(entry);
    size += bytes;
  }
  if (batch.length) batches.push(batch);
  return batches;
}

const insightIdOf = (entry: PutEventsRequestEntry) => {
  try {
    return String((JSON.parse(entry.Detail ?? '{}') as { InsightId?: string }).InsightId ?? '?');
  } catch {
    return '?';
  }
};

/**
 * Insights to an EventBridge bus with PutEvents. Calls that fail as a whole (throttling, 5xx, network) are
 * retried with backoff; entries the bus rejects one by one are retried when their error is transient and
 * reported in a {@link PublishError} when it is not, after every other entry has been delivered.
 */
export class EventBridgePublisher implements InsightPublisher {
  readonly stats: RetryStats & { calls: number; published: number } = {
    calls: 0,
    published: 0,
    throttles: 0,
    serverErrors: 0,
    retries: 0,
  };

  constructor(
    private readonly busName: string,
    private readonly client: Pick<EventBridgeClient, 'send'> = new EventBridgeClient({}),
    private readonly retry: RetryOptions = EVENTBRIDGE_RETRY_DEFAULTS,
  ) {}

  async publish(entries: readonly InsightEntry[]): Promise<void> {
    const failed: { insightId: string; code: string; message: string; retryable: boolean }[] = [];
    const all = entries.map((e): PutEventsRequestEntry => ({
      EventBusName: this.busName,
      Source: e.Source,
      DetailType: e.DetailType,
      Time: new Date(e.Time),
      Detail: JSON.stringify(e.Detail),
      Resources: [],
    }));
    // One entry too big for the bus is refused for good; the others are still delivered.
    const requests = all.filter((entry) => {
      const bytes = entrySize(entry);
      if (bytes <= PUT_EVENTS_MAX_BYTES) return true;
      failed.push({
        insightId: insightIdOf(entry),
        code: 'EntryTooLarge',
        message: `${bytes} bytes > ${PUT_EVENTS_MAX_BYTES}`,
        retryable: false,
      });
      return false;
    });
    const sleep = this.retry.sleep ?? defaultSleep;
    for (const batch of batchEntries(requests)) {
      let pending = batch;
      for (let attempt = 1; pending.length > 0; attempt++) {
        const response = await withRetries(
          'EventBridge PutEvents',
          () => this.client.send(new PutEventsCommand({ Entries: pending })),
          this.retry,
          this.stats,
        );
        this.stats.calls++;
        const again: PutEventsRequestEntry[] = [];
        (response.Entries ?? []).forEach((result, i) => {
          const entry = pending[i]!;
          if (!result.ErrorCode) {
            this.stats.published++;
            return;
          }
          const retryable = RETRYABLE_ENTRY_ERRORS.has(result.ErrorCode);
          if (retryable && attempt < this.retry.maxAttempts) again.push(entry);
          else
            failed.push({
              insightId: insightIdOf(entry),
              code: result.ErrorCode,
              message: result.ErrorMessage ?? '',
              retryable,
            });
        });
        pending = again;
        if (pending.length) {
          this.stats.retries++;
          await sleep(backoffDelay(this.retry, attempt));
        }
      }
    }
    if (failed.length) throw new PublishError(`EventBridge bus ${this.busName}`, failed);
  }
}
