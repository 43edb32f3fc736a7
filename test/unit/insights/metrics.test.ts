import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { Detector, replay } from '../../../lib/insights/detect.js';
import {
  type BucketMetrics,
  bucketMetrics,
  EmfMetricsSink,
  PUT_METRIC_DATA_MAX_DATUMS,
  PutMetricDataSink,
} from '../../../lib/insights/metrics.js';
import { at, series } from '../../helpers/buckets.js';

const cloudwatch = mockClient(CloudWatchClient);
afterEach(() => cloudwatch.reset());

/** Metrics of a replay where checkout fails from bucket 30 on. */
function replayMetrics(services = ['checkout']): BucketMetrics[] {
  const detector = new Detector();
  const out: BucketMetrics[] = [];
  const buckets = services.flatMap((s) => series(s, 34, (i) => (i >= 30 ? { faults: 60 } : {})));
  replay(detector, buckets, at(12), at(34), (t, b) =>
    out.push(bucketMetrics(t, b, detector.scores, detector.activeInsights)),
  );
  return out;
}

describe('CloudWatch metrics', () => {
  it('carries rates, p95, an anomaly score above 1 once anomalous, and the active insights', () => {
    const metrics = replayMetrics();
    const normal = metrics.find((m) => m.time === at(20))!.services[0]!;
    const failing = metrics.find((m) => m.time === at(32))!;
    expect(normal).toMatchObject({ service: 'checkout', requests: 200, errorRate: 1 });
    expect(normal.anomalyScore).toBeLessThan(1);
    expect(failing.services[0]!.faultRate).toBe(30);
    expect(failing.services[0]!.anomalyScore).toBeGreaterThan(1);
    expect(failing.activeInsights).toBe(1);
  });

  it('writes EMF lines CloudWatch can extract: namespace, Service dimension, units, bucket timestamp', async () => {
    const lines: string[] = [];
    await new EmfMetricsSink((line) => lines.push(line), 'Test').put(replayMetrics().slice(-1));
    const [service, active] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(service).toMatchObject({
      _aws: {
        Timestamp: at(33) * 1000,
        CloudWatchMetrics: [{ Namespace: 'Test', Dimensions: [['Service']] }],
      },
      Service: 'checkout',
      FaultRate: 30,
      RequestCount: 200,
    });
    const declared = (service!._aws as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] })
      .CloudWatchMetrics[0]!.Metrics;
    expect(declared).toContainEqual({ Name: 'LatencyP95', Unit: 'Seconds' });
    for (const { Name } of declared) expect(typeof service![Name]).toBe('number');
    expect(active).toMatchObject({ ActiveInsights: 1 });
  });

  it('sends PutMetricData in calls of at most 1,000 data', async () => {
    cloudwatch.on(PutMetricDataCommand).resolves({});
    const services = Array.from({ length: 50 }, (_, i) => `svc-${i}`);
    const metrics = replayMetrics(services).slice(-4); // 4 buckets × (50 services × 6 + 1) = 1,204 data
    await new PutMetricDataSink('Test', new CloudWatchClient({ region: 'us-east-1' })).put(metrics);
    const calls = cloudwatch.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.MetricData!.length)).toEqual([PUT_METRIC_DATA_MAX_DATUMS, 204]);
    expect(calls[0]!.Namespace).toBe('Test');
    expect(calls[0]!.MetricData![0]).toMatchObject({
      MetricName: 'RequestCount',
      Dimensions: [{ Name: 'Service', Value: 'svc-0' }],
      Timestamp: new Date(at(30) * 1000),
    });
  });
});
