import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetTracesCommand, GetTraceSummariesCommand } from '@aws-sdk/client-xray';
import AWSXRay from 'aws-xray-sdk-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { daemonDatagram } from '../../lib/xray/daemon.js';
import { fixture } from '../helpers/fixtures.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';
import { segment } from '../helpers/segments.js';
import type { SegmentDocument } from '../../lib/xray/types.js';

async function until<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('xray-local over the daemon protocol (UDP)', () => {
  let started: Awaited<ReturnType<typeof startLocalXRay>>;
  const logged: { event: string; level: string }[] = [];
  beforeAll(async () => {
    started = await startLocalXRay({ log: (event, _fields, level) => logged.push({ event, level }) });
    AWSXRay.setDaemonAddress(`127.0.0.1:${started.port}`);
    AWSXRay.setLogger({ error: () => {}, warn: () => {}, info: () => {}, debug: () => {} });
  });
  afterAll(async () => {
    await started?.service.stop();
  });

  it('receives a segment the real aws-xray-sdk-core sends, with its subsegment and annotation', async () => {
    const root = new AWSXRay.Segment('checkout');
    root.addAnnotation('tenant', 'acme');
    const sub = root.addNewSubsegment('DynamoDB');
    sub.namespace = 'aws';
    sub.close();
    root.close();
    root.flush();

    const client = xrayClient(started.endpoint);
    try {
      const trace = await until(async () => {
        const result = await client.send(new BatchGetTracesCommand({ TraceIds: [root.trace_id] }));
        return result.Traces?.[0];
      }, 'the SDK segment');
      const names = trace.Segments!.map((s) => (JSON.parse(s.Document!) as { name: string }).name).sort();
      expect(names).toEqual(['DynamoDB', 'checkout']);
      const stored = JSON.parse(trace.Segments!.find((s) => s.Id === root.id)!.Document!) as {
        annotations: Record<string, string>;
      };
      expect(stored.annotations).toEqual({ tenant: 'acme' });
    } finally {
      client.destroy();
    }
  });

  it('counts and drops malformed datagrams without stopping', async () => {
    const before = started.service.stats().rejectedDocuments;
    const socket = createSocket('udp4');
    const send = (payload: Buffer | string) =>
      new Promise<void>((resolve, reject) =>
        socket.send(payload, started.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
    try {
      await send(fixture('udp', 'awsdocs-xray-daemon-inline-literal-backslash-n.txt').trim());
      await send(daemonDatagram('{"trace_id": "1-5f187253-6a106696d56b1f4ef9eba2ed", "cause": 200}'));
      const good = segment();
      await send(daemonDatagram(JSON.stringify(good)));
      await until(
        async () => (started.service.store.documents(good.trace_id) ? true : undefined),
        'the good datagram',
      );
      expect(started.service.stats().rejectedDocuments - before).toBe(2);
      // Logged as warnings, not as the service's routine info lines.
      expect(logged.filter((line) => line.event === 'udp-rejected')).toEqual([
        { event: 'udp-rejected', level: 'warn' },
        { event: 'udp-rejected', level: 'warn' },
      ]);
    } finally {
      socket.close();
    }
  });
});

describe('xray-local --data', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'xray-local-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('keeps traces across a restart', async () => {
    const first = await startLocalXRay({ dataDir });
    const document = segment();
    first.service.putDocuments([JSON.stringify(document)]);
    await first.service.stop();

    const second = await startLocalXRay({ dataDir });
    try {
      const client = xrayClient(second.endpoint);
      const result = await client.send(new BatchGetTracesCommand({ TraceIds: [document.trace_id] }));
      client.destroy();
      expect(JSON.parse(result.Traces![0]!.Segments![0]!.Document!)).toEqual(document);
    } finally {
      await second.service.stop();
    }
  });

  it('keeps LimitExceeded across a restart', async () => {
    const first = await startLocalXRay({ dataDir });
    const root = segment();
    const padding = 'x'.repeat(60_000);
    const parts = Array.from({ length: 10 }, () =>
      JSON.stringify(segment({ trace_id: root.trace_id, parent_id: root.id, metadata: { padding } })),
    );
    first.service.putDocuments([JSON.stringify(root), ...parts]);
    expect(first.service.store.assembled(root.trace_id)?.limitExceeded).toBe(true);
    await first.service.stop();

    const second = await startLocalXRay({ dataDir });
    try {
      const client = xrayClient(second.endpoint);
      const result = await client.send(new BatchGetTracesCommand({ TraceIds: [root.trace_id] }));
      client.destroy();
      expect(result.Traces![0]!.LimitExceeded).toBe(true);
      expect(result.Traces![0]!.Segments).toHaveLength(9);
    } finally {
      await second.service.stop();
    }
  });

  it('compacts its log at start without changing a revision, and a late segment still raises it', async () => {
    let clock = Math.floor(Date.now() / 1000);
    const start = clock - 600;
    const options = { dataDir, now: () => clock, logCompactMinDeadRecords: 3 };
    const first = await startLocalXRay(options);
    // A trace sent in progress, then complete: two log lines, one live document, two revisions.
    const root = segment({ start_time: start });
    const inProgress = { ...root, in_progress: true } as SegmentDocument;
    delete inProgress.end_time;
    first.service.putDocuments([JSON.stringify(inProgress)]);
    clock += 5;
    first.service.putDocuments([JSON.stringify(root)]);
    // Traces that will be past retention at the next start.
    const old = Array.from({ length: 4 }, () => segment({ start_time: clock - 29.99 * 86_400 }));
    first.service.putDocuments(old.map((d) => JSON.stringify(d)));
    const before = first.service.store.summary(root.trace_id, 'Event');
    expect(before?.Revision).toBe(2);
    await first.service.stop();
    const linesBefore = (await readFile(join(dataDir, 'segments.jsonl'), 'utf8')).trim().split('\n');
    expect(linesBefore).toHaveLength(6);

    clock += 86_400;
    const second = await startLocalXRay(options);
    try {
      // Six records, one live: compacted to one line holding the trace.
      const lines = (await readFile(join(dataDir, 'segments.jsonl'), 'utf8')).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(second.service.store.summary(root.trace_id, 'Event')).toEqual(before);
      const client = xrayClient(second.endpoint);
      const listed = await client.send(
        new GetTraceSummariesCommand({
          StartTime: new Date((start - 60) * 1000),
          EndTime: new Date((start + 60) * 1000),
        }),
      );
      client.destroy();
      expect(listed.TraceSummaries?.map((t) => [t.Id, t.Revision])).toEqual([[root.trace_id, 2]]);
      clock += 5;
      second.service.putDocuments([
        JSON.stringify(segment({ trace_id: root.trace_id, parent_id: root.id, start_time: start + 0.1 })),
      ]);
    } finally {
      await second.service.stop();
    }

    const third = await startLocalXRay(options);
    try {
      expect(third.service.store.summary(root.trace_id)?.Revision).toBe(3);
      expect(third.service.store.documents(root.trace_id)?.documents).toHaveLength(2);
      expect(third.service.stats()).toMatchObject({ traces: 1, documents: 2 });
    } finally {
      await third.service.stop();
    }
  });
});
