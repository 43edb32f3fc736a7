import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetTracesCommand } from '@aws-sdk/client-xray';
import AWSXRay from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonDatagram } from '../../lib/xray/daemon.js';
import { fixture } from '../helpers/fixtures.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';
import { segment } from '../helpers/segments.js';

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
  beforeAll(async () => {
    started = await startLocalXRay();
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
    } finally {
      socket.close();
    }
  });
});

describe('xray-local --data', () => {
  it('keeps traces across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'xray-local-'));
    try {
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
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
