import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** An S3 client for a loopback endpoint. */
export const s3Client = (endpoint: string) =>
  new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 3 });

/**
 * s3rver (a real S3-compatible HTTP server) on an ephemeral loopback port, with a bucket.
 *
 * s3rver ignores `If-Match` and `If-None-Match` and overwrites. With `conditional: true` the returned
 * endpoint is a small gateway in front of it that enforces them as S3 documents (412 PreconditionFailed
 * for PutObject and CompleteMultipartUpload, one decision at a time per key), answers suffix ranges
 * (`Range: bytes=-N`, which s3rver answers with the first bytes) as S3 does, and forwards everything else
 * untouched, so S3Store's conditional writes and ranged reads are exercised over HTTP through the real SDK.
 */
export async function startS3(options: { conditional?: boolean; bucket?: string } = {}) {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = (await s3rver.run()) as AddressInfo;
  const backend = `http://127.0.0.1:${port}`;
  const bucket = options.bucket ?? 'lake';
  const admin = s3Client(backend);
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));

  let gateway: Server | undefined;
  let endpoint = backend;
  if (options.conditional) {
    gateway = conditionalGateway(port, admin);
    await new Promise<void>((resolve) => gateway!.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
  }
  return {
    endpoint,
    bucket,
    async stop() {
      admin.destroy();
      await new Promise<void>((resolve) => (gateway ? gateway.close(() => resolve()) : resolve()));
      gateway?.closeAllConnections();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function conditionalGateway(backendPort: number, admin: S3Client): Server {
  const locks = new Map<string, Promise<void>>();
  return createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://gateway');
    const ifMatch = incoming.headers['if-match'];
    const ifNoneMatch = incoming.headers['if-none-match'];
    const writes =
      (incoming.method === 'PUT' && !url.searchParams.has('partNumber')) ||
      (incoming.method === 'POST' && url.searchParams.has('uploadId'));
    const forward = (body?: Buffer) =>
      new Promise<void>((resolve) => {
        const upstream = request(
          {
            host: '127.0.0.1',
            port: backendPort,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
            response.on('end', resolve);
          },
        );
        upstream.on('error', () => {
          outgoing.writeHead(502).end();
          resolve();
        });
        if (body) upstream.end(body);
        else incoming.pipe(upstream);
      });
    const range = incoming.headers.range;
    if (incoming.method === 'GET' && typeof range === 'string' && /^bytes=-\d+$/.test(range)) {
      // s3rver answers a suffix range (the last N bytes) with the object's first bytes; S3 answers it as
      // RFC 9110 says, which the gateway does by turning it into the explicit range of those bytes.
      const [, bucket, ...rest] = decodeURIComponent(url.pathname).split('/');
      void admin
        .send(new HeadObjectCommand({ Bucket: bucket, Key: rest.join('/') }))
        .then(
          (head) => {
            const size = head.ContentLength ?? 0;
            if (size > 0)
              incoming.headers.range = `bytes=${Math.max(0, size - Number(range.slice(7)))}-${size - 1}`;
          },
          () => {},
        )
        .then(() => forward());
      return;
    }
    if (!writes || (ifMatch === undefined && ifNoneMatch === undefined)) {
      void forward();
      return;
    }
    // /bucket/key...: one conditional decision at a time per object, as S3 serializes them.
    const [, bucket, ...rest] = decodeURIComponent(url.pathname).split('/');
    const key = rest.join('/');
    const previous = locks.get(key) ?? Promise.resolve();
    const turn = previous.then(async () => {
      const body = await readAll(incoming);
      const current = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
        (head) => head.ETag,
        () => undefined,
      );
      const failed =
        (ifNoneMatch === '*' && current !== undefined) || (ifMatch !== undefined && ifMatch !== current);
      if (failed) {
        const xml =
          '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';
        outgoing
          .writeHead(412, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) })
          .end(xml);
        return;
      }
      await forward(body);
    });
    locks.set(
      key,
      turn.catch(() => {}),
    );
  });
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
