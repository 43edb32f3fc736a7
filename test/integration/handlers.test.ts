import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunReport } from '../../lib/export/run.js';
import {
  DETECTOR_STATE_KEY,
  type DetectRunReport,
  SCHEDULED_DETECT_DEFAULTS,
} from '../../lib/insights/scheduled.js';
import { SCENARIOS } from '../../lib/local/simulator/scenario.js';
import { simulate } from '../../lib/local/simulator/simulate.js';
import { lambdaContext, sqsEvent } from '../helpers/lambda.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';
import { tempDir } from '../helpers/temp.js';

describe('Lambda handlers against xray-local and a folder lake', () => {
  let local: Awaited<ReturnType<typeof startLocalXRay>>;
  let lake: string;
  const output: string[] = [];
  beforeAll(async () => {
    local = await startLocalXRay();
    lake = await mkdtemp(join(tmpdir(), 'handler-lake-'));
    const client = xrayClient(local.endpoint);
    const now = Math.floor(Date.now() / 1000);
    await simulate(client, {
      scenario: { ...SCENARIOS.quiet!, traffic: { ...SCENARIOS.quiet!.traffic, requestsPerMinute: 6 } },
      from: now - 3 * 3600,
      to: now - 60,
      seed: 9,
      batchSize: 250,
    });
    client.destroy();
    // Update times are on the service's clock, in fractions of a second; let them fall before the runs' "now".
    await new Promise((resolve) => setTimeout(resolve, 1100));
    Object.assign(process.env, {
      LAKE_ROOT: lake,
      XRAY_ENDPOINT: local.endpoint,
      EXPORT_LAG_MINUTES: '0',
      EXPORT_INITIAL_LOOKBACK_HOURS: '2',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_DEV: 'false',
    });
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void output.push(args.join(' ')));
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array) => (output.push(String(chunk)), true),
    );
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await local?.service.stop();
    await rm(lake, { recursive: true, force: true });
  });

  it('export-traces exports from the initial lookback to the live edge, emits EMF metrics, and resumes next time', async () => {
    vi.resetModules();
    const { handler } = await import('../../functions/export-traces.js');
    const first = (await handler({}, lambdaContext())) as RunReport;
    // The window covers the last 2 hours; the revisit pass adds the traces updated since (all of them, here).
    expect(first.tracesExported).toBe(local.service.store.stats().traces);
    expect(first.revisited.exported).toBeGreaterThan(0);
    expect(first.checkpoint).not.toBeNull();
    const checkpoint = JSON.parse(await readFile(join(lake, '_state/export/checkpoint.json'), 'utf8')) as {
      position: number;
    };
    expect(checkpoint.position).toBeGreaterThan(Date.now() / 1000 - 120);
    const emf = output
      .map((line) => line.trim())
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf.some((m) => m.TracesExported === first.tracesExported)).toBe(true);

    const second = (await handler({}, lambdaContext())) as RunReport;
    expect(second.tracesExported).toBe(0);
    expect(second.calls.BatchGetTraces).toBe(0);
    expect(second.revisited.exported).toBe(0);
  });

  it('export-traces stops starting windows near its deadline and leaves the rest to the next run', async () => {
    vi.resetModules();
    process.env.LAKE_ROOT = await tempDir('handler-lake-deadline-');
    const { handler } = await import('../../functions/export-traces.js');
    const report = (await handler({}, lambdaContext(30_000))) as RunReport;
    expect(report.stoppedAt).toBeDefined();
    expect(report.tracesExported).toBe(0);
    process.env.LAKE_ROOT = lake;
  });

  it('backfill-worker exports each window and reports only the bad messages as failures', async () => {
    vi.resetModules();
    process.env.LAKE_ROOT = await tempDir('handler-backfill-');
    const { handler } = await import('../../functions/backfill-worker.js');
    const hour = Math.floor(Date.now() / 3_600_000) * 3600;
    const window = (from: number) =>
      JSON.stringify({
        from: new Date(from * 1000).toISOString(),
        to: new Date((from + 3600) * 1000).toISOString(),
      });
    const result = await handler(
      sqsEvent([window(hour - 7200), 'not json', window(hour - 3600)]),
      lambdaContext(),
    );
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }] });
    process.env.LAKE_ROOT = lake;
  });

  it('detect-anomalies judges the newest buckets of the exported lake, writes EMF metrics and keeps its state', async () => {
    vi.resetModules();
    const insights = join(lake, '..', `${basename(lake)}-insights.jsonl`);
    Object.assign(process.env, { INSIGHT_SINK: `jsonl:${insights}`, DETECT_LAG_MINUTES: '0' });
    const { handler } = await import('../../functions/detect-anomalies.js');
    output.length = 0;
    const first = (await handler({}, lambdaContext())) as DetectRunReport;
    expect(first.buckets).toBe(SCHEDULED_DETECT_DEFAULTS.firstRunBuckets);
    expect(first.services).toBeGreaterThanOrEqual(5);
    expect((await stat(join(lake, DETECTOR_STATE_KEY))).size).toBe(first.stateBytes);
    const emf = output
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"') && line.includes('"Service"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(new Set(emf.map((m) => m.Service)).size).toBe(first.services);
    expect(emf.every((m) => typeof m.RequestCount === 'number' && typeof m.AnomalyScore === 'number')).toBe(
      true,
    );
    const second = (await handler({}, lambdaContext())) as DetectRunReport;
    expect(second.from).toBe(first.to);
    expect(second.buckets).toBeLessThanOrEqual(1);
    await rm(insights, { force: true });
  });
});
