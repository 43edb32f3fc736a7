import { createReadStream, createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * The `--data DIR` persistence of xray-local: an append-only log of accepted documents, one
 * `[receivedAt, document]` JSON line each, replayed at start. Appending is the cheapest durable write; a line
 * torn by a crash is skipped on replay rather than failing the start.
 */
export class SegmentLog {
  readonly path: string;
  private stream?: WriteStream;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'segments.jsonl');
  }

  /** Feeds every logged document to `accept`, in order. Returns how many lines were replayed. */
  async replay(accept: (text: string, receivedAt: number) => void): Promise<number> {
    if (!existsSync(this.path)) return 0;
    let count = 0;
    const lines = createInterface({
      input: createReadStream(this.path, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) {
      if (!line) continue;
      try {
        const [receivedAt, text] = JSON.parse(line) as [number, string];
        accept(text, receivedAt);
        count++;
      } catch {
        // A torn final line from an interrupted write.
      }
    }
    return count;
  }

  append(text: string, receivedAt: number): void {
    this.stream ??= createWriteStream(this.path, { flags: 'a' });
    this.stream.write(`${JSON.stringify([receivedAt, text])}\n`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    if (stream)
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
  }
}
