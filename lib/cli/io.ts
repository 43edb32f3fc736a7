import { S3Client } from '@aws-sdk/client-s3';
import { XRayClient } from '@aws-sdk/client-xray';
import type { ObjectStore } from '../store/object-store.js';
import type { FlagSpecs } from './args.js';
import { openLakeStore } from '../store/open-lake.js';

/** Where a command writes: results to `out`, progress and logs to `err`. Injected so tests capture both. */
export interface CommandIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** True when `err` is a terminal: progress is then a line redrawn in place, otherwise JSON log lines. */
  interactive: boolean;
  /** Resolves when the user asks the command to stop (Ctrl-C). */
  interrupted: Promise<void>;
}

/** A progress reporter: a redrawn line on a terminal, a JSON line at most every few seconds otherwise. */
export function progress(io: CommandIO, stage: string, intervalMs = 5_000) {
  let last = 0;
  let drawn = false;
  return {
    update(message: string, fields: Record<string, unknown> = {}) {
      const now = Date.now();
      if (io.interactive) {
        io.err(`\r\x1b[2K${stage}: ${message}`);
        drawn = true;
      } else if (now - last >= intervalMs) {
        io.err(`${JSON.stringify({ level: 'info', stage, message, ...fields })}\n`);
        last = now;
      }
    },
    done(message: string, fields: Record<string, unknown> = {}) {
      if (io.interactive) io.err(`${drawn ? '\r\x1b[2K' : ''}${stage}: ${message}\n`);
      else io.err(`${JSON.stringify({ level: 'info', stage, message, ...fields })}\n`);
    },
  };
}

/** True for endpoints on this machine, which get dummy credentials (xray-local checks none). */
export function isLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.');
}

/** An X-Ray client for an endpoint: dummy credentials on loopback, the default credential chain elsewhere. */
export function xrayClientFor(endpoint: string | undefined, region: string): XRayClient {
  if (endpoint && isLoopback(endpoint)) {
    return new XRayClient({
      endpoint,
      region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  }
  return new XRayClient({ region, ...(endpoint && { endpoint }) });
}

/** The flags naming a lake that may be on S3 (or an S3-compatible server), as export and verify take them. */
export const LAKE_FLAGS = {
  lake: {
    type: 'string',
    required: true,
    description: 'lake root: a folder or s3://bucket/prefix',
    placeholder: 'ROOT',
  },
  's3-endpoint': {
    type: 'string',
    description: 'S3-compatible endpoint for an s3:// lake (default: AWS S3)',
    placeholder: 'URL',
  },
} as const satisfies FlagSpecs;

/**
 * The store a `--lake` value names: a folder, or `s3://bucket/prefix` (AWS S3 in `region`, or any
 * S3-compatible server at `s3Endpoint`, path-style, with dummy credentials when it is on loopback).
 */
export function openLake(root: string, options: { region: string; s3Endpoint?: string }): ObjectStore {
  const endpoint = options.s3Endpoint;
  return openLakeStore(root, {
    s3Client: () =>
      new S3Client({
        region: options.region,
        maxAttempts: 6,
        ...(endpoint && { endpoint, forcePathStyle: true }),
        ...(endpoint &&
          isLoopback(endpoint) && { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }),
      }),
  });
}
