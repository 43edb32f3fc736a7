import * as crypto from 'node:crypto';

/**
 * The hex digest of `data` (a string is hashed as UTF-8). One-shot `crypto.hash` where the runtime has it
 * (Node 20.12+, 22): the same digest as a `createHash` object at half the cost or less for short inputs,
 * which is what the exporter hashes most (an id per inferred segment). Older Node 20 releases, which
 * package.json still admits, take the `createHash` path. (A named import of `hash` would fail to link there,
 * hence the namespace import.)
 */
export function hexDigest(algorithm: 'md5' | 'sha1' | 'sha256', data: string | Uint8Array): string {
  return oneShot ? oneShot(algorithm, data, 'hex') : crypto.createHash(algorithm).update(data).digest('hex');
}
// Looked up once: the exporter calls hexDigest for every inferred segment.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;
