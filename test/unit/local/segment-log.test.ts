import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirError } from '../../../lib/local/errors.js';
import { SegmentLog, type TraceSnapshot } from '../../../lib/local/segment-log.js';

/** Everything a replay hands over, in order. */
async function replayAll(log: SegmentLog) {
  const seen: unknown[] = [];
  const result = await log.replay({
    document: (text, receivedAt) => seen.push(['document', text, receivedAt]),
    limitExceeded: (traceId) => seen.push(['limit', traceId]),
    trace: (snapshot) => seen.push(['trace', snapshot]),
  });
  return { seen, result };
}

const snapshot = (id: string, documents: string[]): TraceSnapshot => ({
  id,
  revision: documents.length + 2,
  updatedAt: 1_800_000_000.5,
  limitExceeded: false,
  documents,
});

describe('SegmentLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'segment-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('replays the first format, limit marks and snapshots in order, skipping a torn line', async () => {
    const log = new SegmentLog(dir);
    writeFileSync(
      log.path,
      [
        JSON.stringify([1, '{"id":"a"}']),
        JSON.stringify({ limitExceeded: '1-00000000-000000000000000000000000' }),
        JSON.stringify({ trace: snapshot('t', ['{"id":"b"}', '{"id":"c"}']) }),
        JSON.stringify({ something: 'else' }),
        '[2, "{\\"id\\":', // torn by a crash mid-write
      ].join('\n'),
    );
    const { seen, result } = await replayAll(log);
    expect(seen).toEqual([
      ['document', '{"id":"a"}', 1],
      ['limit', '1-00000000-000000000000000000000000'],
      ['trace', snapshot('t', ['{"id":"b"}', '{"id":"c"}'])],
    ]);
    expect(result).toEqual({ lines: 5, records: 4, skipped: 2 });
    expect(log.records).toBe(4);
  });

  it('replays what it appended after a close', async () => {
    const log = new SegmentLog(dir);
    log.append('{"id":"a"}', 10);
    log.appendLimitExceeded('trace-1');
    await log.close();
    const { seen } = await replayAll(new SegmentLog(dir));
    expect(seen).toEqual([
      ['document', '{"id":"a"}', 10],
      ['limit', 'trace-1'],
    ]);
  });

  it('compacts to the snapshots followed by whatever was appended while it ran', async () => {
    const log = new SegmentLog(dir);
    for (let i = 0; i < 50; i++) log.append(`{"id":"old${i}"}`, i);
    const snapshots = Array.from({ length: 2_000 }, (_, i) => snapshot(`t${i}`, [`{"id":"s${i}"}`]));
    const compacting = log.compact(snapshots);
    // Appended while the snapshots are being written: must end up in the new log, after them.
    log.append('{"id":"during"}', 99);
    await compacting;
    log.append('{"id":"after"}', 100);
    await log.close();

    const { seen, result } = await replayAll(new SegmentLog(dir));
    expect(seen).toHaveLength(2_002);
    expect(seen.slice(0, 2)).toEqual([
      ['trace', snapshots[0]],
      ['trace', snapshots[1]],
    ]);
    expect(seen.slice(-2)).toEqual([
      ['document', '{"id":"during"}', 99],
      ['document', '{"id":"after"}', 100],
    ]);
    expect(result.records).toBe(2_002);
    expect(readFileSync(log.path, 'utf8')).not.toContain('old0');
  });

  it('keeps counting records across a compaction', async () => {
    const log = new SegmentLog(dir);
    for (let i = 0; i < 5; i++) log.append(`{"id":"${i}"}`, i);
    expect(log.records).toBe(5);
    await log.compact([snapshot('t', ['{"id":"1"}', '{"id":"2"}'])]);
    expect(log.records).toBe(2);
    log.append('{"id":"5"}', 5);
    expect(log.records).toBe(3);
    await log.close();
  });

  it('leaves the old log whole when a compaction fails', async () => {
    const log = new SegmentLog(dir);
    log.append('{"id":"a"}', 1);
    await log.close();
    const before = readFileSync(log.path, 'utf8');
    // A snapshot JSON cannot write (a cycle) fails the compaction before anything is renamed.
    const cyclic = snapshot('t', []) as TraceSnapshot & { self?: unknown };
    cyclic.self = cyclic;
    await expect(log.compact([cyclic])).rejects.toThrow(/circular/i);
    expect(readFileSync(log.path, 'utf8')).toBe(before);
    appendFileSync(log.path, `${JSON.stringify([2, '{"id":"b"}'])}\n`);
    const { seen } = await replayAll(new SegmentLog(dir));
    expect(seen).toHaveLength(2);
  });

  it('names the folder it cannot create or read', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => new SegmentLog(join(file, 'data'))).toThrow(DataDirError);
    expect(() => new SegmentLog(join(file, 'data'))).toThrow(
      `data folder ${join(file, 'data')}: cannot create it (ENOTDIR`,
    );
    mkdirSync(join(dir, 'segments.jsonl'));
    await expect(replayAll(new SegmentLog(dir))).rejects.toThrow(
      /data folder .*: cannot read .*segments\.jsonl \(EISDIR/,
    );
  });

  it('reports a failed write once and appends nothing more, rather than crash', async () => {
    const errors: Error[] = [];
    const log = new SegmentLog(dir, (error) => errors.push(error));
    mkdirSync(log.path); // appending to it fails
    log.append('{"id":"a"}', 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    log.append('{"id":"b"}', 2);
    log.appendLimitExceeded('trace');
    await log.close();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DataDirError);
    expect(log.failed?.message).toMatch(/cannot write .*segments\.jsonl \(EISDIR/);
  });
});
