import { AthenaClient } from '@aws-sdk/client-athena';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { XRayClient } from '@aws-sdk/client-xray';
import type { ExportConfig } from '../lib/export/config.js';
import type { DetectConfig } from '../lib/insights/config.js';
import type { InsightPublisher } from '../lib/insights/events.js';
import { EventBridgePublisher } from '../lib/insights/eventbridge-publisher.js';
import { ConsolePublisher, JsonlPublisher } from '../lib/insights/jsonl-publisher.js';
import { EmfMetricsSink } from '../lib/insights/metrics.js';
import { AthenaEngine } from '../lib/query/athena-engine.js';
import { DuckDbEngine } from '../lib/query/duckdb-engine.js';
import type { QueryEngine } from '../lib/query/engine.js';
import { parseLakeRoot } from '../lib/store/object-store.js';
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
 * Detection's engine, state store, publisher and metrics. An s3:// lake is read through Athena; a folder
 * through DuckDB (for running the handler locally), whose native module the Lambda bundle leaves out.
 */
export function detectDeps(config: DetectConfig) {
  const store = openLakeStore(config.lakeRoot);
  const root = parseLakeRoot(config.lakeRoot);
  const athena =
    root.kind === 's3'
      ? new AthenaEngine(
          { workgroup: config.athenaWorkgroup, database: config.athenaDatabase },
          new AthenaClient({}),
        )
      : undefined;
  const engine = async (): Promise<QueryEngine> =>
    athena ?? DuckDbEngine.open(root.kind === 'fs' ? root.path : '');
  const { sink } = config;
  const publisher: InsightPublisher = sink.startsWith('eventbridge:')
    ? new EventBridgePublisher(sink.slice('eventbridge:'.length), new EventBridgeClient({}))
    : sink.startsWith('jsonl:')
      ? new JsonlPublisher(sink.slice('jsonl:'.length))
      : new ConsolePublisher((text) => process.stdout.write(text));
  // EMF: CloudWatch extracts the metrics from the function's log, with no API call to pay or permit.
  const metrics = new EmfMetricsSink((line) => process.stdout.write(`${line}\n`), config.metricsNamespace);
  return { engine, store, publisher, metrics };
}
