import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { FsStore } from './fs-store.js';
import { type ObjectStore, parseLakeRoot } from './object-store.js';
import { S3Store } from './s3-store.js';

/**
 * The store a lake root names: a folder (`FsStore`) or `s3://bucket/prefix` (`S3Store`). The S3 client
 * is made only for an S3 lake, by `s3Client` when given (an endpoint override, an instrumented client).
 */
export function openLakeStore(
  root: string,
  options: { s3Client?: () => S3Client; kmsKeyId?: string } = {},
): ObjectStore {
  const parsed = parseLakeRoot(root);
  if (parsed.kind === 'fs') return new FsStore(resolve(parsed.path));
  const client = options.s3Client?.() ?? new S3Client({ maxAttempts: 6 });
  return new S3Store({ bucket: parsed.bucket, prefix: parsed.prefix }, client, {
    ...(options.kmsKeyId && { kmsKeyId: options.kmsKeyId }),
  });
}
