import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { main } from '../../lib/cli/main.js';
import type { InsightEntry } from '../../lib/insights/events.js';

/** Runs the command line in-process, capturing what it writes. */
export async function runCli(argv: string[], options: { interrupt?: Promise<void> } = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
    interrupted: options.interrupt ?? new Promise(() => {}),
  });
  return { code, out, err };
}

/** Runs `xray-lake query --sql` over `lake` through the command line and returns its one row. */
export async function queryRow<T>(lake: string, sql: string): Promise<T> {
  const { out } = await runCli(['query', '--lake', lake, '--format', 'json', '--sql', sql]);
  return JSON.parse(out) as T;
}

/** The insight events of a JSONL sink's file. */
export async function readJsonl(path: string): Promise<InsightEntry[]> {
  const text = (await readFile(path, 'utf8')).trim();
  return text ? text.split('\n').map((line) => JSON.parse(line) as InsightEntry) : [];
}

/**
 * `xray-lake detect` over `lake` as the schedule runs it (`--now` each of `runs`, no lag), continuing from its
 * state, and as a replay of `replay.from`–`replay.to`, each to a JSONL file under `dir`, with `extra` flags:
 * the events of both, and what each scheduled run printed.
 */
export async function scheduledAndReplayed(
  lake: string,
  dir: string,
  runs: readonly number[],
  replay: { from: number; to: number },
  extra: readonly string[] = [],
) {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const [scheduledPath, replayPath] = [join(dir, 'scheduled.jsonl'), join(dir, 'replay.jsonl')];
  const messages: string[] = [];
  for (const now of runs) {
    const args = ['--now', iso(now), '--lag-minutes', '0', ...extra, '--sink', `jsonl:${scheduledPath}`];
    const run = await runCli(['detect', '--lake', lake, ...args]);
    if (run.code !== 0) throw new Error(`scheduled detect at ${iso(now)} exited ${run.code}: ${run.err}`);
    messages.push(run.err);
  }
  const args = [
    '--from',
    iso(replay.from),
    '--to',
    iso(replay.to),
    ...extra,
    '--sink',
    `jsonl:${replayPath}`,
  ];
  const replayed = await runCli(['detect', '--lake', lake, ...args]);
  if (replayed.code !== 0) throw new Error(`replay exited ${replayed.code}: ${replayed.err}`);
  return { scheduled: await readJsonl(scheduledPath), replayed: await readJsonl(replayPath), messages };
}
