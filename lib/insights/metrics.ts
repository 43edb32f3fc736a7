import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type RetryOptions, type RetryStats, withRetries } from '../retry.js';
import type { Bucket } from './detect.js';

/** The CloudWatch namespace the metrics go to unless configured. */
export const METRICS_NAMESPACE = 'XRayLake';

/**
 * Metric data per PutMetricData call.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html ("MetricData
 * ... Maximum number of 1000 items.")
 */
export const PUT_METRIC_DATA_MAX_DATUMS = 1000;

/** One service's metrics for one bucket, as published to CloudWatch. */
export interface ServiceMetrics {
  service: string;
  /** Epoch seconds: the bucket's start. */
  time: number;
  requests: number;
  faultRate: number;
  errorRate: number;
  throttleRate: number;
  p95: number | null;
  /** The detector's score, 1 at the alerting threshold (max over its four detectors). */
  anomalyScore: number;
}

/** What a detection run hands to CloudWatch for one bucket. */
export interface BucketMetrics {
  time: number;
  services: ServiceMetrics[];
  activeInsights: number;
}

/** Where per-service metrics go: EMF lines from Lambda, PutMetricData from the command line. */
export interface MetricsSink {
  put(buckets: readonly BucketMetrics[]): Promise<void>;
}

/** Builds a bucket's metrics from its service buckets and the detector's scores. */
export function bucketMetrics(
  time: number,
  buckets: readonly Bucket[],
  scores: ReadonlyMap<string, number>,
  activeInsights: number,
): BucketMetrics {
  const rate = (n: number, of: number) => (of > 0 ? (100 * n) / of : 0);
  return {
    time,
    activeInsights,
    services: buckets.map((b) => ({
      service: b.service,
      time,
      requests: b.requests,
      faultRate: rate(b.faults, b.requests),
      errorRate: rate(b.errors, b.requests),
      throttleRate: rate(b.throttles, b.requests),
      p95: b.p95,
      anomalyScore: scores.get(b.service) ?? 0,
    })),
  };
}

type Unit = 'Count' | 'Percent' | 'Seconds' | 'None';
const SERVICE_METRICS: [name: string, unit: Unit, pick: (m: ServiceMetrics) => number | null][] = [
  ['RequestCount', 'Count', (m) => m.requests],
  ['FaultRate', 'Percent', (m) => m.faultRate],
  ['ErrorRate', 'Percent', (m) => m.errorRate],
  ['ThrottleRate', 'Percent', (m) => m.throttleRate],
  ['LatencyP95', 'Seconds', (m) => m.p95],
  ['AnomalyScore', 'None', (m) => m.anomalyScore],
];

/**
 * Embedded Metric Format: one JSON line per service and bucket (and one for ActiveInsights), which Lambda
 * writes to its log and CloudWatch turns into metrics, with no API call and no extra permission.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export class EmfMetricsSink implements MetricsSink {
  constructor(
    private readonly write: (line: string) => void,
    private readonly namespace = METRICS_NAMESPACE,
  ) {}

  async put(buckets: readonly BucketMetrics[]): Promise<void> {
    for (const bucket of buckets) {
      for (const m of bucket.services) {
        const present = SERVICE_METRICS.filter(([, , pick]) => pick(m) !== null);
        this.write(
          JSON.stringify({
            _aws: {
              Timestamp: m.time * 1000,
              CloudWatchMetrics: [
                {
                  Namespace: this.namespace,
                  Dimensions: [['Service']],
                  Metrics: present.map(([name, unit]) => ({ Name: name, Unit: unit })),
                },
              ],
            },
            Service: m.service,
            ...Object.fromEntries(present.map(([name, , pick]) => [name, pick(m)])),
          }),
        );
      }
      this.write(
        JSON.stringify({
          _aws: {
            Timestamp: bucket.time * 1000,
            CloudWatchMetrics: [
              {
                Namespace: this.namespace,
                Dimensions: [[]],
                Metrics: [{ Name: 'ActiveInsights', Unit: 'Count' }],
              },
            ],
          },
          ActiveInsights: bucket.activeInsights,
        }),
      );
    }
  }
}

/** PutMetricData in calls of at most 1,000 data, retried on throttling and 5xx: for the command line. */
export class PutMetricDataSink implements MetricsSink {
  readonly stats: RetryStats & { calls: number } = { calls: 0, throttles: 0, serverErrors: 0, retries: 0 };

  constructor(
    private readonly namespace = METRICS_NAMESPACE,
    private readonly client: Pick<CloudWatchClient, 'send'> = new CloudWatchClient({}),
    private readonly retry: RetryOptions = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 },
  ) {}

  async put(buckets: readonly BucketMetrics[]): Promise<void> {
    const data: MetricDatum[] = [];
    for (const bucket of buckets) {
      const timestamp = new Date(bucket.time * 1000);
      for (const m of bucket.services)
        for (const [name, unit, pick] of SERVICE_METRICS) {
          const value = pick(m);
          if (value === null) continue;
          data.push({
            MetricName: name,
            Unit: unit,
            Value: value,
            Timestamp: timestamp,
            Dimensions: [{ Name: 'Service', Value: m.service }],
          });
        }
      data.push({
        MetricName: 'ActiveInsights',
        Unit: 'Count',
        Value: bucket.activeInsights,
        Timestamp: timestamp,
      });
    }
    for (let i = 0; i < data.length; i += PUT_METRIC_DATA_MAX_DATUMS) {
      const batch = data.slice(i, i + PUT_METRIC_DATA_MAX_DATUMS);
      await withRetries(
        'CloudWatch PutMetricData',
        () => this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: batch })),
        this.retry,
        this.stats,
      );
      this.stats.calls++;
    }
  }
}
