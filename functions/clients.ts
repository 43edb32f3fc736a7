import { S3Client } from '@aws-sdk/client-s3';
import { XRayClient } from '@aws-sdk/client-xray';
import type { ExportConfig } from '../lib/export/config.js';
import { FsStore } from '../lib/store/fs-store.js';
import type { ObjectStore } from '../lib/store/object-store.js';
import { parseLakeRoot } from '../lib/store/object-store.js';
import { S3Store } from '../lib/store/s3-store.js';
import { XRayTraceSource } from '../lib/xray/xray-source.js';

/** The exporter's trace source and lake, built once per cold start from its configuration. */
export function exportDeps(config: ExportConfig) {
  // Single attempts: the exporter's fetcher retries, adapting concurrency to throttling.
  const xray = new XRayClient({
    maxAttempts: 1,
    ...(config.xrayEndpoint && { endpoint: config.xrayEndpoint }),
  });
  const root = parseLakeRoot(config.lakeRoot);
  const store: ObjectStore =
    root.kind === 's3'
      ? new S3Store({ bucket: root.bucket, prefix: root.prefix }, new S3Client({ maxAttempts: 6 }), {
          ...(config.kmsKeyId && { kmsKeyId: config.kmsKeyId }),
        })
      : new FsStore(root.path);
  return { source: new XRayTraceSource(xray), store };
}
