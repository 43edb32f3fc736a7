import { XRayClient } from '@aws-sdk/client-xray';
import type { ExportConfig } from '../lib/export/config.js';
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
