import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { InsightEntry, InsightPublisher } from './events.js';

/** Insights as JSON lines, one entry a line, appended to a file: the embedded default's EventBridge. */
export class JsonlPublisher implements InsightPublisher {
  constructor(private readonly path: string) {}

  async publish(entries: readonly InsightEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  }
}

/** Insights to a writer (the console): one readable line each, then the JSON entry. */
export class ConsolePublisher implements InsightPublisher {
  constructor(private readonly write: (text: string) => void) {}

  async publish(entries: readonly InsightEntry[]): Promise<void> {
    for (const entry of entries) this.write(`${JSON.stringify(entry)}\n`);
  }
}
