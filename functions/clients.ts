import { XRayClient } from '@aws-sdk/client-xray';
import type { ExportConfig } from '../lib/export/config.js';
import type { DetectConfig } from '../lib/insights/config.js';
import { EmfMetricsSink } from '../lib/insights/metrics.js';
import { openInsightPublisher, parseInsightSink } from '../lib/insights/sinks.js';
import { openLakeEngine } from '../lib/query/open-engine.js';
import { openLakeStore } from '../lib/store/open-lake.js';
import { XRayTraceSource } from '../lib/xray/xray-source.js';

/** The exporter's trace source and lake, built once per cold start from its configuration. */
export function exportDeps(config: ExportConfig) {
  // Single attempts: the exporter's fetcher retries, adapting concurrency to throttling.
  const xray = new XRayClient({
    maxAttempts: 1,
    ...(config.xrayEndpoint && { endpoint: config.xrayEndpoint }),
  });
  const store = openLakeStore(config.lakeRoot, { ...(config.kmsKeyId && { kmsKeyId: config.kmsKeyId }) });
  return { source: new XRayTraceSource(xray), store };
}

/**
 * Detection's state store, publisher and metrics, once per cold start, and its engine, opened per
 * invocation (closing an engine destroys its client): Athena for an s3:// lake, DuckDB for a folder (for
 * running the handler locally; the Lambda bundle leaves DuckDB's native module out).
 */
export function detectDeps(config: DetectConfig) {
  const sink = parseInsightSink(config.sink)!; // detectConfigFromEnv has checked it
  return {
    engine: () =>
      openLakeEngine(config.lakeRoot, { workgroup: config.athenaWorkgroup, database: config.athenaDatabase }),
    store: openLakeStore(config.lakeRoot),
    publisher: openInsightPublisher(sink, { write: (text) => process.stdout.write(text) }),
    // EMF: CloudWatch extracts the metrics from the function's log, with no API call to pay or permit.
    metrics: new EmfMetricsSink((line) => process.stdout.write(`${line}\n`), config.metricsNamespace),
  };
}
