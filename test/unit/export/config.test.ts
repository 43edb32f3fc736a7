import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { exportConfigFromEnv } from '../../../lib/export/config.js';
import { ExportConfigError } from '../../../lib/export/errors.js';
import { parseBackfillWindow, planBackfill } from '../../../lib/export/scheduled.js';

describe('exportConfigFromEnv', () => {
  it('reads the lake and fills defaults', () => {
    expect(
      exportConfigFromEnv({ LAKE_ROOT: 's3://my-lake/prod', BACKFILL_QUEUE_URL: 'https://sqs/q' }),
    ).toEqual({
      lakeRoot: 's3://my-lake/prod',
      lagMinutes: 5,
      revisitHours: 6,
      initialLookbackHours: 1,
      healHours: 2,
      shards: 1,
      maxConcurrency: 8,
      backfillQueueUrl: 'https://sqs/q',
    });
  });

  it.each([
    [{}, /^LAKE_ROOT: required/],
    [{ LAKE_ROOT: 's3://My_Bucket/x' }, /^LAKE_ROOT: "My_Bucket" is not a valid S3 bucket name/],
    [
      { LAKE_ROOT: 's3://b0b/x', EXPORT_LAG_MINUTES: 'soon' },
      /^EXPORT_LAG_MINUTES: expected a number from 0 to 1440, got "soon"/,
    ],
    [{ LAKE_ROOT: 's3://b0b/x', LAKE_SHARDS: '2.5' }, /^LAKE_SHARDS: expected a whole number/],
    [
      { LAKE_ROOT: 's3://b0b/x', EXPORT_HEAL_HOURS: '48' },
      /^EXPORT_HEAL_HOURS: expected a whole number from 0 to 24, got "48"/,
    ],
    [
      { LAKE_ROOT: 's3://b0b/x', XRAY_ENDPOINT: 'localhost:2000' },
      /^XRAY_ENDPOINT: expected an http\(s\) URL/,
    ],
  ])('names the variable of a bad value: %j', (env, message) => {
    expect(() => exportConfigFromEnv(env)).toThrow(ExportConfigError);
    expect(() => exportConfigFromEnv(env)).toThrow(message);
  });
});

describe('planBackfill', () => {
  it('enqueues hour windows 10 a call, and retries entries SQS refused', async () => {
    const sqs = mockClient(SQSClient);
    let first = true;
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => {
      if (first) {
        first = false;
        return {
          Successful: input.Entries.slice(1).map((e) => ({ Id: e.Id })),
          Failed: [{ Id: input.Entries[0]!.Id, Code: 'InternalError', SenderFault: false }],
        };
      }
      return { Successful: input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const from = Date.UTC(2026, 10, 1) / 1000;
    const result = await planBackfill(
      { from, to: from + 25 * 3600 },
      'https://sqs/q',
      new SQSClient({ region: 'us-east-1' }),
    );
    expect(result.windows).toBe(25);
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries!.length);
    expect(calls).toEqual([10, 1, 10, 5]);
    const bodies = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.MessageBody!)));
    expect(bodies[0]).toEqual({ from: '2026-11-01T00:00:00.000Z', to: '2026-11-01T01:00:00.000Z' });
    sqs.restore();
  });

  it('refuses to plan without a queue, naming the variable', async () => {
    await expect(planBackfill({ from: 0, to: 3600 }, undefined)).rejects.toThrow(
      /^BACKFILL_QUEUE_URL: required/,
    );
  });

  it('parses window messages and names what is wrong', () => {
    expect(parseBackfillWindow('{"from":"2026-11-01T00:00:00Z","to":"2026-11-01T01:00:00Z"}')).toEqual({
      from: 1793491200,
      to: 1793494800,
    });
    expect(() => parseBackfillWindow('{"from":"x"}')).toThrow(/message body: expected/);
  });
});
