import { XRayClient } from '@aws-sdk/client-xray';
import { type LocalXRayOptions, LocalXRayService } from '../../lib/local/xray-service.js';

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
