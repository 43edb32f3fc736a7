/**
 * Benchmarks of the embedded trace source (issue: foundation). Prints figures; asserts nothing.
 *
 *   npm run bench                 all benchmarks
 *   node bin/run-ts.mjs bench/xray-local.ts [--minutes N] [--rpm N] [--segments N]
 *
 * - generate: the simulator alone (traces/s, documents/s)
 * - ingest/http: simulator → PutTraceSegments through @aws-sdk/client-xray → xray-local in its own process
 * - ingest/udp: daemon datagrams → xray-local in its own process
 * - read: GetTraceSummaries pages + BatchGetTraces (5 ids a call, 8 in flight) through the SDK
 * - memory: RSS of a TraceStore holding N segment documents, scaled to a million
 */
import { createSocket } from 'node:dgram';
import { BatchGetTracesCommand, paginateGetTraceSummaries } from '@aws-sdk/client-xray';
import { xrayClientFor } from '../lib/cli/io.js';
import { TrafficGenerator } from '../lib/local/simulator/generate.js';
import { DEFAULT_SCENARIO, resolveIncidents, type Scenario } from '../lib/local/simulator/scenario.js';
import { simulate } from '../lib/local/simulator/simulate.js';
import { TraceStore } from '../lib/local/trace-store.js';
import { daemonDatagram } from '../lib/xray/daemon.js';
import type { SegmentDocument } from '../lib/xray/types.js';
import { startXRayLocalProcess } from './local-service.js';
import { parseSegmentDocument } from '../lib/xray/validate.js';

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const MINUTES = arg('minutes', 120);
const RPM = arg('rpm', 500);
const SEGMENTS = arg('segments', 1_000_000);

const scenario: Scenario = {
  ...DEFAULT_SCENARIO,
  incidents: [],
  traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: RPM },
};
const to = Math.floor(Date.now() / 60_000) * 60 - 3600;
const from = to - MINUTES * 60;
const rows: { benchmark: string; figure: string; detail: string }[] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function stats(
  endpoint: string,
): Promise<{ documents: number; traces: number; rejectedDocuments: number }> {
  return (await (await fetch(`${endpoint}/_local/stats`)).json()) as never;
}

function benchGenerate() {
  const generator = new TrafficGenerator(scenario, resolveIncidents(scenario, from, to), 1);
  let traces = 0;
  let documents = 0;
  let bytes = 0;
  const started = performance.now();
  for (let minute = from / 60; minute < to / 60; minute++) {
    for (const trace of generator.minute(minute)) {
      traces++;
      for (const document of trace.documents) {
        bytes += JSON.stringify(document).length;
        documents++;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  rows.push({
    benchmark: 'generate (simulator alone, JSON text)',
    figure: `${fmt(traces / seconds)} traces/s`,
    detail: `${fmt(documents / seconds)} documents/s; ${fmt(traces)} traces, ${(documents / traces).toFixed(2)} documents and ${fmt(bytes / traces)} bytes a trace`,
  });
}

async function benchHttp(batchSize: number) {
  const { child, endpoint } = await startXRayLocalProcess();
  const client = xrayClientFor(endpoint, 'us-east-1');
  try {
    const report = await simulate(client, { scenario, from, to, seed: 1, batchSize, concurrency: 8 });
    const served = await stats(endpoint);
    rows.push({
      benchmark: `ingest/http (simulate → PutTraceSegments, ${batchSize} docs a call)`,
      figure: `${fmt(report.tracesPerSecond)} traces/s`,
      detail: `${fmt(report.documents / report.seconds)} segments/s; ${fmt(report.traces)} traces; stored ${fmt(served.documents)} documents`,
    });
    await benchRead(endpoint, report.traces);
  } finally {
    client.destroy();
    child.kill();
  }
}

async function benchRead(endpoint: string, expected: number) {
  const client = xrayClientFor(endpoint, 'us-east-1');
  try {
    const started = performance.now();
    const ids: string[] = [];
    let summaryCalls = 0;
    for await (const page of paginateGetTraceSummaries(
      { client },
      { StartTime: new Date(from * 1000), EndTime: new Date(to * 1000) },
    )) {
      summaryCalls++;
      for (const summary of page.TraceSummaries ?? []) ids.push(summary.Id!);
    }
    const listed = performance.now();
    let segments = 0;
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const batch = ids.slice(next, next + 5);
        next += 5;
        const result = await client.send(new BatchGetTracesCommand({ TraceIds: batch }));
        for (const trace of result.Traces ?? []) segments += trace.Segments?.length ?? 0;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const done = performance.now();
    rows.push({
      benchmark: 'read/GetTraceSummaries (SDK paginator)',
      figure: `${fmt(ids.length / ((listed - started) / 1000))} summaries/s`,
      detail: `${fmt(ids.length)} of ${fmt(expected)} traces listed in ${summaryCalls} pages`,
    });
    rows.push({
      benchmark: 'read/BatchGetTraces (5 ids a call, 8 in flight)',
      figure: `${fmt(ids.length / ((done - listed) / 1000))} traces/s`,
      detail: `${fmt(segments / ((done - listed) / 1000))} segments/s incl. inferred`,
    });
  } finally {
    client.destroy();
  }
}

async function benchUdp(targetPerSecond: number) {
  const { child, endpoint, port } = await startXRayLocalProcess();
  const socket = createSocket('udp4');
  try {
    const generator = new TrafficGenerator(scenario, [], 2);
    const datagrams: Buffer[] = [];
    for (let minute = from / 60; datagrams.length < 60_000; minute++) {
      for (const trace of generator.minute(minute))
        for (const d of trace.documents) datagrams.push(daemonDatagram(JSON.stringify(d)));
    }
    // Paced at a target rate, in 1 ms slots, as many SDK processes on one host would send.
    const started = performance.now();
    const perSlot = targetPerSecond / 1000;
    for (let i = 0, slot = 0; i < datagrams.length; slot++) {
      const due = Math.floor((slot + 1) * perSlot);
      const burst = datagrams.slice(i, Math.max(i + 1, due));
      i += burst.length;
      await Promise.all(
        burst.map(
          (d) =>
            new Promise<void>((resolve, reject) =>
              socket.send(d, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
            ),
        ),
      );
      const wait = started + (slot + 1) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const sent = performance.now();
    let received = 0;
    for (let idle = 0; idle < 5;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const now = (await stats(endpoint)).documents;
      idle = now === received ? idle + 1 : 0;
      received = now;
    }
    const seconds = (sent - started) / 1000;
    rows.push({
      benchmark: `ingest/udp (daemon datagrams, offered ${fmt(targetPerSecond)}/s)`,
      figure: `${fmt(Math.min(received, datagrams.length) / seconds)} segments/s`,
      detail: `sent ${fmt(datagrams.length / seconds)}/s; ${fmt(received)} of ${fmt(datagrams.length)} stored (${(((datagrams.length - received) / datagrams.length) * 100).toFixed(1)}% lost)`,
    });
  } finally {
    socket.close();
    child.kill();
  }
}

function benchMemory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().rss;
  // A recent clock so nothing is past retention.
  const store = new TraceStore({ now: () => to + 60 });
  const generator = new TrafficGenerator(scenario, [], 3);
  let documents = 0;
  for (let minute = to / 60 - 20 * 24 * 60; documents < SEGMENTS; minute++) {
    for (const trace of generator.minute(minute)) {
      for (const document of trace.documents) {
        const text = JSON.stringify(document);
        const parsed = parseSegmentDocument(text);
        if (parsed.ok) store.put(parsed.document as SegmentDocument, text);
        documents++;
      }
    }
  }
  gc?.();
  const rss = process.memoryUsage().rss - before;
  const { bytes, traces } = store.stats();
  rows.push({
    benchmark: `memory (TraceStore, ${fmt(documents)} segments)`,
    figure: `${(rss / 2 ** 30 / (documents / 1e6)).toFixed(2)} GiB RSS per million segments`,
    detail: `${fmt(traces)} traces, ${(bytes / 2 ** 20).toFixed(0)} MiB of document text${gc ? '' : ' (run with --expose-gc for a settled figure)'}`,
  });
}

export async function runXRayLocalBenchmarks(): Promise<typeof rows> {
  console.error(
    `xray-local benchmarks: ${MINUTES} minutes at ${RPM} requests/min; memory with ${fmt(SEGMENTS)} segments`,
  );
  benchGenerate();
  await benchHttp(50);
  await benchHttp(250);
  await benchUdp(10_000);
  await benchUdp(30_000);
  benchMemory();
  return rows;
}

if (process.argv[1]?.endsWith('xray-local.ts')) {
  const result = await runXRayLocalBenchmarks();
  console.table(result);
}
