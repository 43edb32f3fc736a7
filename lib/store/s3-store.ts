import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { InvalidKeyError, PreconditionFailedError, StoreError } from './errors.js';
import {
  type ByteRange,
  isValidKey,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './object-store.js';

/**
 * S3 multipart parts must be at least 5 MiB except the last
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).
 */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;
/** Bodies larger than this go up in parts: a failed part is retried alone, not the whole hour file. */
export const MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** ListObjectsV2 returns at most 1,000 keys a page (API reference, `MaxKeys`). */
export const LIST_OBJECTS_MAX_KEYS = 1000;

export interface S3Location {
  bucket: string;
  /** Key prefix without a trailing slash; empty for the bucket root. */
  prefix: string;
}

export interface S3StoreOptions {
  /** SSE-KMS key for every object written; otherwise the bucket's default encryption applies. */
  kmsKeyId?: string;
  multipartThresholdBytes?: number;
  partSizeBytes?: number;
}

/**
 * The lake on S3. Conditional writes use S3's `If-Match` / `If-None-Match: *` (PutObject and
 * CompleteMultipartUpload), so two writers of one hour file cannot overwrite each other: the loser gets
 * 412 and re-merges. Throttling (503 SlowDown) and 5xx are retried by the SDK's standard retry strategy.
 */
export class S3Store implements ObjectStore {
  readonly location: string;

  constructor(
    private readonly where: S3Location,
    private readonly client: S3Client = new S3Client({ maxAttempts: 6 }),
    private readonly options: S3StoreOptions = {},
  ) {
    this.location = `s3://${where.bucket}/${where.prefix}`;
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(key) }),
      );
      const body = result.Body ? await result.Body.transformToByteArray() : new Uint8Array();
      return { body, etag: result.ETag ?? '' };
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw new StoreError(`cannot read ${this.location}/${key}`, { cause: error });
    }
  }

  /**
   * A ranged GetObject (`Range: bytes=start-end`, or `bytes=-N` for the last N bytes, RFC 9110's suffix
   * range); the object's size from its Content-Range.
   */
  async getRange(key: string, range: ByteRange): Promise<{ body: Uint8Array; size: number } | undefined> {
    if ('start' in range && range.end <= range.start) {
      // HTTP has no empty range: the size alone, from the first byte's read.
      const first = await this.getRange(key, { start: 0, end: 1 });
      return first && { body: new Uint8Array(), size: first.size };
    }
    const Range = 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end - 1}`;
    try {
      const result = await this.client.send(
        new GetObjectCommand({ Bucket: this.where.bucket, Key: this.key(key), Range }),
      );
      const body = result.Body ? await result.Body.transformToByteArray() : new Uint8Array();
      // "bytes 0-99/1234"; without one (a server that ignored the range) the body is the whole object.
      const total = /\/(\d+)$/.exec(result.ContentRange ?? '')?.[1];
      const size = total === undefined ? body.length : Number(total);
      if (total !== undefined) return { body, size };
      return 'suffix' in range
        ? { body: body.subarray(Math.max(0, body.length - range.suffix)), size }
        : { body: body.subarray(range.start, Math.min(range.end, body.length)), size };
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      // Past the end of the object (or an empty object): 416; the range holds nothing, the size is asked again.
      if (e.$metadata?.httpStatusCode === 416) {
        if ('suffix' in range || range.start === 0) return { body: new Uint8Array(), size: 0 };
        const first = await this.getRange(key, { start: 0, end: 1 });
        return first && { body: new Uint8Array(), size: first.size };
      }
      throw new StoreError(`cannot read ${this.location}/${key}`, { cause: error });
    }
  }

  async put(key: string, body: Uint8Array, options: PutOptions = {}): Promise<{ etag: string }> {
    const Key = this.key(key);
    const condition: Record<string, string> =
      options.ifMatch === undefined
        ? {}
        : options.ifMatch === null
          ? { IfNoneMatch: '*' }
          : { IfMatch: options.ifMatch };
    const encryption: { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string } = this.options.kmsKeyId
      ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.options.kmsKeyId }
      : {};
    try {
      if (body.byteLength > (this.options.multipartThresholdBytes ?? MULTIPART_THRESHOLD_BYTES)) {
        return await this.putMultipart(Key, body, condition, encryption);
      }
      const result = await this.client.send(
        new PutObjectCommand({ Bucket: this.where.bucket, Key, Body: body, ...condition, ...encryption }),
      );
      return { etag: result.ETag ?? '' };
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      // 412: the condition failed. 409 ConditionalRequestConflict: a concurrent conditional write won.
      if (
        e.$metadata?.httpStatusCode === 412 ||
        e.name === 'PreconditionFailed' ||
        e.$metadata?.httpStatusCode === 409
      )
        throw new PreconditionFailedError(key, options.ifMatch ?? null);
      throw new StoreError(`cannot write ${this.location}/${key}`, { cause: error });
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    const root = this.where.prefix ? `${this.where.prefix}/` : '';
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.where.bucket,
          Prefix: root + prefix,
          MaxKeys: LIST_OBJECTS_MAX_KEYS,
          ...(token && { ContinuationToken: token }),
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key.slice(root.length);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.where.bucket, Key: this.key(key) }));
  }

  private async putMultipart(
    Key: string,
    body: Uint8Array,
    condition: Record<string, string>,
    encryption: { ServerSideEncryption?: 'aws:kms'; SSEKMSKeyId?: string },
  ): Promise<{ etag: string }> {
    const Bucket = this.where.bucket;
    const partSize = Math.max(S3_MIN_PART_BYTES, this.options.partSizeBytes ?? 8 * 1024 * 1024);
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket, Key, ...encryption }),
    );
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      for (let offset = 0, number = 1; offset < body.byteLength; offset += partSize, number++) {
        const part = await this.client.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: number,
            Body: body.subarray(offset, offset + partSize),
          }),
        );
        parts.push({ ETag: part.ETag ?? '', PartNumber: number });
      }
      const done = await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: parts },
          ...condition,
        }),
      );
      return { etag: done.ETag ?? '' };
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw error;
    }
  }

  private key(key: string): string {
    if (!isValidKey(key)) throw new InvalidKeyError(key);
    return this.where.prefix ? `${this.where.prefix}/${key}` : key;
  }
}
