import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreconditionFailedError } from '../../lib/store/errors.js';
import { S3Store } from '../../lib/store/s3-store.js';
import { objectStoreContract } from '../helpers/object-store-contract.js';
import { rangedReadOf } from '../helpers/parquet.js';
import { s3Client, startS3 } from '../helpers/s3-server.js';

let server: Awaited<ReturnType<typeof startS3>>;
let prefixes = 0;
beforeAll(async () => {
  server = await startS3({ conditional: true });
});
afterAll(async () => {
  await server?.stop();
});

objectStoreContract('S3Store on s3rver behind the conditional-write gateway', async () => {
  const where = { bucket: server.bucket, prefix: `lake-${++prefixes}` };
  return {
    store: new S3Store(where, s3Client(server.endpoint)),
    openAgain: () => new S3Store(where, s3Client(server.endpoint)),
  };
});

describe('S3Store', () => {
  it('reads a lake file by ranged GetObjects: its footer and one column, the same rows as the whole file', async () => {
    const store = new S3Store({ bucket: server.bucket, prefix: 'ranged' }, s3Client(server.endpoint));
    const { ranged, whole, size } = await rangedReadOf(store);
    expect(ranged.rows).toEqual(whole);
    expect(ranged.bytesRead).toBeLessThan(size / 2);
  });

  it('uploads a large object in parts, conditionally', async () => {
    const client = s3Client(server.endpoint);
    const commands: string[] = [];
    client.middlewareStack.add(
      (next, context) => (args) => (commands.push(context.commandName as string), next(args)),
      { step: 'initialize' },
    );
    const store = new S3Store({ bucket: server.bucket, prefix: 'multipart' }, client, {
      multipartThresholdBytes: 1024,
    });
    const body = new Uint8Array(11 * 1024 * 1024).map((_, i) => i % 251);
    await store.put('big.parquet', body, { ifMatch: null });
    expect(commands).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    expect(Buffer.from((await store.get('big.parquet'))!.body).equals(Buffer.from(body))).toBe(true);
    await expect(store.put('big.parquet', body, { ifMatch: null })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    expect(commands.slice(-2)).toEqual(['CompleteMultipartUploadCommand', 'AbortMultipartUploadCommand']);
  });

  it('keeps keys under its prefix and lists them without it', async () => {
    const store = new S3Store({ bucket: server.bucket, prefix: 'tenant-a/lake' }, s3Client(server.endpoint));
    await store.put('traces/x', new Uint8Array([1]));
    const keys: string[] = [];
    for await (const key of store.list('traces/')) keys.push(key);
    expect(keys).toEqual(['traces/x']);
    expect(store.location).toBe('s3://lake/tenant-a/lake');
  });
});

describe('s3rver alone', () => {
  it('ignores If-None-Match, which is why the conditional gateway exists', async () => {
    const plain = await startS3();
    try {
      const store = new S3Store({ bucket: plain.bucket, prefix: '' }, s3Client(plain.endpoint));
      await store.put('k', new Uint8Array([1]), { ifMatch: null });
      await store.put('k', new Uint8Array([2]), { ifMatch: null }); // S3 would answer 412 here
      expect((await store.get('k'))?.body).toEqual(new Uint8Array([2]));
    } finally {
      await plain.stop();
    }
  });
});
