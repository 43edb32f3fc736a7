import { XRayClient } from '@aws-sdk/client-xray';
import { exportRange } from '../../lib/export/run.js';
import type { Scenario } from '../../lib/local/simulator/scenario.js';
import { simulate } from '../../lib/local/simulator/simulate.js';
import { type LocalXRayOptions, LocalXRayService } from '../../lib/local/xray-service.js';
import { FsStore } from '../../lib/store/fs-store.js';
import { XRayTraceSource } from '../../lib/xray/xray-source.js';

/** Starts xray-local on an ephemeral loopback port; stop it in afterAll. */
export async function startLocalXRay(options: LocalXRayOptions = {}) {
  const service = new LocalXRayService({ port: 0, rateLimits: {}, ...options });
  const { endpoint, port } = await service.start();
  return { service, endpoint, port };
}

/** The real X-Ray SDK client pointed at a local endpoint, with dummy credentials and no retries of its own. */
export function xrayClient(endpoint: string, maxAttempts = 1): XRayClient {
  return new XRayClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts,
  });
}

/**
 * Simulates `scenario` over [from, to) (epoch seconds) into a fresh xray-local, exports it into a folder lake
 * at `lake`, and stops the service: a lake with the scenario's labelled incidents in it.
 */
export async function simulatedLake(
  lake: string,
  options: { scenario: Scenario; from: number; to: number; seed: number },
): Promise<void> {
  const local = await startLocalXRay();
  const client = xrayClient(local.endpoint);
  try {
    await simulate(client, { ...options, batchSize: 250 });
    await exportRange(
      { source: new XRayTraceSource(client), store: new FsStore(lake) },
      { from: options.from, to: options.to },
    );
  } finally {
    client.destroy();
    await local.service.stop();
  }
}
