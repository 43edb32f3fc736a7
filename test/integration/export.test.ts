import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutTraceSegmentsCommand } from '@aws-sdk/client-xray';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConfigFromEnv } from '../../lib/export/config.js';
import { WITHHELD_REASON } from '../../lib/export/quarantine.js';
import { exportRange } from '../../lib/export/run.js';
import {
  LAKE_MENDING_FAILED_LOG,
  parseBackfillWindow,
  recordRun,
  runBackfillWindow,
  runScheduledExport,
} from '../../lib/export/scheduled.js';
import { readCheckpoint, readUnprocessed, UNPROCESSED_KEY } from '../../lib/export/state.js';
import { mergeIntoHourFiles, ORPHAN_GRACE_MS, partKey } from '../../lib/lake/hour-files.js';
import { decodeParquet, encodeParquet } from '../../lib/lake/parquet.js';
import { parseRedaction } from '../../lib/lake/redact.js';
import { verifyLake } from '../../lib/lake/verify.js';
import type { SegmentRow, TraceRow } from '../../lib/lake/schema.js';
import { SCENARIOS } from '../../lib/local/simulator/scenario.js';
import { silent } from '../../lib/observability.js';
import { simulate } from '../../lib/local/simulator/simulate.js';
import { FsStore } from '../../lib/store/fs-store.js';
import type { ObjectStore, PutOptions } from '../../lib/store/object-store.js';
import { traceIdEpochSeconds } from '../../lib/xray/ids.js';
import type { TraceSource } from '../../lib/xray/source.js';
import { XRayTraceSource } from '../../lib/xray/xray-source.js';
import { startLocalXRay, xrayClient } from '../helpers/local-xray.js';
import { rowsOf, traceAt as trace } from '../helpers/lake-rows.js';
import { acrossTheHour, segment } from '../helpers/segments.js';

const FROM = Date.UTC(2026, 10, 21, 9, 30) / 1000;
const TO = FROM + 90 * 60; // 90 minutes across an hour boundary
const quick = { baseDelayMs: 1, maxDelayMs: 20 };
/** A run to the live edge over the range, 100 traces a unit: the first half hour (~360) splits into parts. */
const splitLive = { from: FROM, to: TO, advanceCheckpoint: true, maxTracesPerUnit: 100 };
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

async function lakeRows(store: ObjectStore) {
  const traces: TraceRow[] = [];
  const segments: SegmentRow[] = [];
  for await (const key of store.list('traces/')) {
    const object = await store.get(key);
    traces.push(...(await decodeParquet('traces', object!.body)));
  }
  for await (const key of store.list('segments/')) {
    const object = await store.get(key);
    segments.push(...(await decodeParquet('segments', object!.body)));
  }
  return { traces, segments };
}

/** `store`, calling `then` after each hour's traces file is written (the end of a unit): to time a deadline. */
const afterTracesWrite = (store: FsStore, then: () => void): FsStore =>
  Object.assign(Object.create(store) as FsStore, {
    put: async (key: string, body: Uint8Array, put?: PutOptions) => {
      const result = await store.put(key, body, put);
      if (key.startsWith('traces/')) then();
      return result;
    },
  });

/** The lake's content without the columns that record when it was written. */
const content = async (store: ObjectStore) => {
  const { traces, segments } = await lakeRows(store);
  return {
    traces: traces
      .map(({ exported_at: _e, ...rest }) => rest)
      .sort((a, b) => (a.trace_id < b.trace_id ? -1 : 1)),
    segments: segments.length,
  };
};

/** `xray-lake verify` finds nothing wrong: every trace once, whole, in its hour. */
async function expectVerified(store: FsStore) {
  const report = await verifyLake(store);
  expect(report.problems).toEqual([]);
  return report;
}

describe('export from xray-local into a folder lake', () => {
  let local: Awaited<ReturnType<typeof startLocalXRay>>;
  let source: TraceSource;
  let sourceIds: string[];
  let sourceSegments: number;
  const dirs: string[] = [];
  const freshStore = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lake-'));
    dirs.push(dir);
    return new FsStore(dir);
  };

  beforeAll(async () => {
    local = await startLocalXRay();
    const client = xrayClient(local.endpoint);
    const scenario = { ...SCENARIOS.quiet!, traffic: { ...SCENARIOS.quiet!.traffic, requestsPerMinute: 12 } };
    await simulate(client, { scenario, from: FROM, to: TO, seed: 4, batchSize: 250 });
    client.destroy();
    source = new XRayTraceSource(xrayClient(local.endpoint));
    sourceIds = [...local.service.store.scan(FROM, TO, 'TraceId')].map(([id]) => id).sort();
    sourceSegments = 0;
    for (const id of sourceIds) {
      const trace = local.service.store.assembled(id)!;
      const count = (e: { subsegments?: unknown[] }): number =>
        1 + (e.subsegments ?? []).reduce<number>((n, c) => n + count(c as never), 0);
      sourceSegments += [...trace.segments, ...trace.orphans, ...trace.inferred].reduce(
        (n, d) => n + count(d),
        0,
      );
    }
  });
  afterAll(async () => {
    await local?.service.stop();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('puts every trace the source lists in the lake exactly once, with every segment', async () => {
    const store = await freshStore();
    const report = await exportRange({ source, store }, { from: FROM, to: TO });
    const { traces, segments } = await lakeRows(store);
    expect(sourceIds.length).toBeGreaterThan(500);
    expect(traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
    expect(segments.length).toBe(sourceSegments);
    expect(await expectVerified(store)).toMatchObject({ traces: sourceIds.length, segments: sourceSegments });
    expect(report).toMatchObject({
      tracesExported: sourceIds.length,
      unprocessedTraceIds: [],
      quarantinedDocuments: 0,
    });
    // The floor: one BatchGetTraces per 5 traces, in each hour window.
    const hour = Date.UTC(2026, 10, 21, 10) / 1000;
    const perWindow = [FROM, hour, TO]
      .slice(1)
      .map((end, i) => [...local.service.store.scan([FROM, hour][i]!, end - 0.001, 'TraceId')].length);
    expect(report.calls.BatchGetTraces).toBe(perWindow.reduce((sum, n) => sum + Math.ceil(n / 5), 0));
  });

  it('changes nothing when a window is run again: no fetches, no writes', async () => {
    const store = await freshStore();
    await exportRange({ source, store }, { from: FROM, to: TO });
    const files = async () => {
      const out: string[] = [];
      for await (const key of store.list('')) out.push(`${key} ${(await store.get(key))!.etag}`);
      return out;
    };
    const before = await files();
    const again = await exportRange({ source, store }, { from: FROM + 600, to: TO - 600 });
    expect(await files()).toEqual(before);
    expect(again.calls.BatchGetTraces).toBe(0);
    expect(again.tracesExported).toBe(0);
    expect(again.tracesAlreadyCurrent).toBeGreaterThan(0);
  });

  it('leaves the same lake after a run killed mid-way and resumed from its checkpoint', async () => {
    const reference = await freshStore();
    await exportRange({ source, store: reference }, { from: FROM, to: TO });

    const store = await freshStore();
    let calls = 0;
    const dying: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        if (++calls > 150) throw Object.assign(new Error('process killed'), { name: 'Killed' });
        return source.batchGet(ids);
      },
    };
    await expect(
      exportRange({ source: dying, store }, { from: FROM, to: TO, advanceCheckpoint: true, leaseTtlMs: 1 }),
    ).rejects.toThrow('process killed');
    const checkpoint = await readCheckpoint(store);
    expect(checkpoint?.position).toBe(Date.UTC(2026, 10, 21, 10) / 1000); // the first (hour) window was durable

    await exportRange({ source, store }, { from: checkpoint!.position, to: TO, advanceCheckpoint: true });
    expect(await content(store)).toEqual(await content(reference));
    expect((await readCheckpoint(store))?.position).toBe(TO);
    await expectVerified(store);
  });

  it('moves the checkpoint after each part of a split hour, and a run stopped between parts goes on from there', async () => {
    const reference = await freshStore();
    await exportRange({ source, store: reference }, { from: FROM, to: TO });

    const store = await freshStore();
    const options: Parameters<typeof exportRange>[1] = { ...splitLive };
    // The deadline passes as the first part's traces file is written.
    const timed = afterTracesWrite(store, () => (options.stopAt = 0));
    const stopped = await exportRange({ source, store: timed }, options);
    const reached = (await readCheckpoint(store))!.position;
    expect(reached).toBeGreaterThan(FROM);
    expect(reached).toBeLessThan(FROM + 900);
    expect(stopped.stoppedAt).toBe(new Date(reached * 1000).toISOString());
    const exported = (await lakeRows(store)).traces;
    expect(exported.length).toBeGreaterThan(0);
    expect(exported.every((t) => t.start_time < reached * 1000)).toBe(true);

    await exportRange({ source, store }, { ...splitLive, from: reached });
    expect(await content(store)).toEqual(await content(reference));
    expect((await readCheckpoint(store))?.position).toBe(TO);
  });

  it('does not begin a part it could not finish by the deadline at the pace of the parts before it', async () => {
    // ~100 ms a BatchGetTraces call, one at a time: a part of ~90 traces takes about 2 s.
    const slow: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return source.batchGet(ids);
      },
    };
    const store = await freshStore();
    const options: Parameters<typeof exportRange>[1] = {
      ...splitLive,
      fetch: { ...quick, initialConcurrency: 1, maxConcurrency: 1 },
    };
    // Once the first part is written, 1 s is left: enough to list the next part, not to fetch it.
    const timed = afterTracesWrite(store, () => (options.stopAt ??= Date.now() + 1000));
    const report = await exportRange({ source: slow, store: timed }, options);
    const returned = Date.now();
    expect(returned).toBeLessThan(options.stopAt!);
    expect(report.windows).toBe(1);
    const reached = (await readCheckpoint(store))!.position;
    expect(report.stoppedAt).toBe(iso(reached));
    expect(reached).toBeLessThan(FROM + 900);
  });

  it('continues a backfill window cut short by its deadline in a new message, and retries one not begun', async () => {
    const reference = await freshStore();
    await exportRange({ source, store: reference }, { from: FROM, to: TO });
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Successful: input.Entries.map((e) => ({ Id: e.Id })),
      Failed: [],
    }));
    try {
      const config = {
        ...exportConfigFromEnv({ LAKE_ROOT: 's3://lake-bucket/xray' }),
        backfillQueueUrl: 'https://sqs/q',
      };
      const client = new SQSClient({ region: 'us-east-1' });
      const store = await freshStore();
      // The deadline passes as the first hour's traces file is written.
      const deadline = new AbortController();
      const timed = afterTracesWrite(store, () => deadline.abort());
      const deps = { source, store: timed, ...silent, signal: deadline.signal };
      const window = parseBackfillWindow(JSON.stringify({ from: iso(FROM), to: iso(TO) }));
      const report = await runBackfillWindow(config, window, deps, client);
      const secondHour = Date.UTC(2026, 10, 21, 10) / 1000;
      expect(report.stoppedAt).toBe(iso(secondHour));
      const sent = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!);
      expect(sent.map((e) => JSON.parse(e.MessageBody!))).toEqual([{ from: iso(secondHour), to: iso(TO) }]);
      expect(sqs.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe('https://sqs/q');

      // The new message, taken by the next worker, finishes the window.
      const rest = parseBackfillWindow(sent[0]!.MessageBody!);
      await runBackfillWindow(config, rest, { source, store, ...silent }, client);
      expect(await content(store)).toEqual(await content(reference));

      // Stopped before anything was exported: the same message again would make no progress, so it fails.
      const early = new AbortController();
      early.abort();
      await expect(
        runBackfillWindow(
          config,
          window,
          { source, store: await freshStore(), ...silent, signal: early.signal },
          client,
        ),
      ).rejects.toThrow('stopped at its deadline before any of the window was exported');
      expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);

      // Stopped part-way with a trace X-Ray would not return: the rest is sent on first, then the message
      // fails, to be retried for that trace.
      const stuck = sourceIds[0]!;
      const holding: TraceSource = {
        listPage: (w, t) => source.listPage(w, t),
        batchGet: async (ids) => {
          const rest = ids.filter((id) => id !== stuck);
          const got = rest.length > 0 ? await source.batchGet(rest) : { traces: [], unprocessed: [] };
          return { ...got, unprocessed: [...got.unprocessed, ...ids.filter((id) => id === stuck)] };
        },
      };
      const again = new AbortController();
      const other = await freshStore();
      await expect(
        runBackfillWindow(
          config,
          window,
          {
            source: holding,
            store: afterTracesWrite(other, () => again.abort()),
            ...silent,
            signal: again.signal,
          },
          client,
        ),
      ).rejects.toThrow('1 traces of the window could not be fetched');
      const resent = sqs.commandCalls(SendMessageBatchCommand).slice(1);
      expect(resent.flatMap((c) => c.args[0].input.Entries!).map((e) => JSON.parse(e.MessageBody!))).toEqual([
        { from: iso(secondHour), to: iso(TO) },
      ]);
    } finally {
      sqs.restore();
    }
  });

  it('asks again in later runs for traces left unprocessed, until X-Ray no longer keeps them', async () => {
    const store = await freshStore();
    const [late, alsoLate, never] = [sourceIds[3]!, sourceIds[40]!, sourceIds[77]!];
    const stuck = new Set([late, alsoLate, never]);
    const flaky: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        const served = ids.filter((id) => !stuck.has(id));
        const result = served.length > 0 ? await source.batchGet(served) : { traces: [], unprocessed: [] };
        return { ...result, unprocessed: ids.filter((id) => stuck.has(id)) };
      },
    };
    const live = { advanceCheckpoint: true, fetch: quick };
    const first = await exportRange({ source: flaky, store }, { from: FROM, to: TO, ...live });
    expect(first.unprocessedTraceIds.sort()).toEqual([late, alsoLate, never].sort());
    const kept = await readUnprocessed(store);
    expect(Object.keys(kept.traces).sort()).toEqual([late, alsoLate, never].sort());

    // X-Ray has two of them now; the next run (nothing new to list) fetches them by id.
    stuck.delete(late);
    stuck.delete(alsoLate);
    const second = await exportRange({ source: flaky, store }, { from: TO, to: TO, ...live });
    expect(second.retried).toEqual({ asked: 3, exported: 2, expired: [] });
    expect(second.unprocessedTraceIds).toEqual([never]);
    expect(second.windows).toBe(0);
    expect((await readUnprocessed(store)).traces).toEqual({ [never]: kept.traces[never] });
    const ids = (await lakeRows(store)).traces.map((t) => t.trace_id).sort();
    expect(ids).toEqual(sourceIds.filter((id) => id !== never));

    // A bounded backfill leaves the list alone; past X-Ray's 30 days the last one is given up, and said so.
    await exportRange({ source: flaky, store }, { from: FROM, to: FROM + 60, fetch: quick });
    expect(Object.keys((await readUnprocessed(store)).traces)).toEqual([never]);
    const later = () => (TO + 31 * 86_400) * 1000;
    const third = await exportRange({ source: flaky, store }, { from: TO, to: TO, ...live, now: later });
    expect(third.retried.expired).toEqual([never]);
    expect(await store.get(UNPROCESSED_KEY)).toBeUndefined();
    // The Lambda's metrics count it, for the alarm on traces given up.
    const metrics: [string, number][] = [];
    recordRun(third, { addMetric: (name, _unit, value) => void metrics.push([name, value]) });
    expect(metrics).toContainEqual(['TracesGivenUp', 1]);
  });

  it('reports a trace returned without any document as unprocessed, and gets it in a later run', async () => {
    const store = await freshStore();
    const hollow = sourceIds[5]!;
    let empty = true;
    const indexing: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        const result = await source.batchGet(ids);
        const traces = result.traces.map((t) => (t.id === hollow && empty ? { ...t, documents: [] } : t));
        return { ...result, traces };
      },
    };
    const live = { advanceCheckpoint: true, fetch: quick };
    const first = await exportRange({ source: indexing, store }, { from: FROM, to: TO, ...live });
    expect(first.unprocessedTraceIds).toEqual([hollow]);
    expect(Object.keys((await readUnprocessed(store)).traces)).toEqual([hollow]);
    empty = false;
    const second = await exportRange({ source: indexing, store }, { from: TO, to: TO, ...live });
    expect(second.retried).toEqual({ asked: 1, exported: 1, expired: [] });
    expect((await lakeRows(store)).traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
  });

  it("exports a trace whose summary's StartTime lies outside the window that listed it", async () => {
    // A summary may not carry the time the window matched on (a root segment not yet in, a skewed clock):
    // here one trace of the first hour says it started an hour later, and only the first hour lists it.
    const odd = sourceIds[10]!;
    const skewed: TraceSource = {
      listPage: async (window, next) => {
        const page = await source.listPage(window, next);
        return {
          ...page,
          refs: page.refs.map((r) => (r.id === odd ? { ...r, startTime: r.startTime + 3600 } : r)),
        };
      },
      batchGet: (ids) => source.batchGet(ids),
    };
    const store = await freshStore();
    const report = await exportRange({ source: skewed, store }, { from: FROM, to: TO });
    expect(report.tracesExported).toBe(sourceIds.length);
    const { traces } = await lakeRows(store);
    expect(traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
  });

  it('loses nothing with 20% throttling and 5% 5xx injected', async () => {
    const flaky = await startLocalXRay({ throttleRate: 0.2, errorRate: 0.05 });
    try {
      // The same traffic, written past the faults with the simulator's own retries (50 ms to 2 s apart). Not
      // the SDK's as well: its backoff for throttling grows to 20 s, and a run of injected throttles once
      // took this test past its 30 s timeout (3 s otherwise).
      const writer = xrayClient(flaky.endpoint);
      await simulate(writer, {
        scenario: { ...SCENARIOS.quiet!, traffic: { ...SCENARIOS.quiet!.traffic, requestsPerMinute: 12 } },
        from: FROM,
        to: TO,
        seed: 4,
        batchSize: 250,
        maxAttempts: 20,
      });
      writer.destroy();
      const store = await freshStore();
      const report = await exportRange(
        { source: new XRayTraceSource(xrayClient(flaky.endpoint)), store },
        { from: FROM, to: TO, fetch: { ...quick, maxAttempts: 30 } },
      );
      const { traces } = await lakeRows(store);
      expect(traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
      expect(report.throttles).toBeGreaterThan(10);
      expect(report.serverErrors).toBeGreaterThan(1);
      expect(report.unprocessedTraceIds).toEqual([]);
      await expectVerified(store);
    } finally {
      await flaky.service.stop();
    }
  });

  it('completes a trace whose segments arrive after its first export (revisit by update time)', async () => {
    const late = await startLocalXRay();
    try {
      const client = xrayClient(late.endpoint);
      const start = Date.now() / 1000 - 3 * 3600;
      const root = segment({ start_time: start, end_time: start + 1 });
      await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(root)] }));
      const store = await freshStore();
      const lateSource = new XRayTraceSource(xrayClient(late.endpoint));
      await exportRange({ source: lateSource, store }, { from: start - 60, to: start + 60 });
      expect((await lakeRows(store)).segments).toHaveLength(1);

      const worker = segment({
        trace_id: root.trace_id,
        name: 'worker',
        parent_id: root.id,
        start_time: start + 0.5,
        end_time: start + 2,
      });
      await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(worker)] }));
      client.destroy();
      const now = Date.now() / 1000;
      const report = await exportRange(
        { source: lateSource, store },
        { from: now - 60, to: now, revisit: { from: now - 6 * 3600, to: now + 1 } },
      );
      const { traces, segments } = await lakeRows(store);
      expect(report.revisited.exported).toBe(1);
      expect(traces).toHaveLength(1);
      expect(traces[0]).toMatchObject({
        trace_id: root.trace_id,
        revision: 2,
        duration: 2,
        segment_count: 2,
      });
      expect(segments.map((s) => s.service).sort()).toEqual(['api', 'worker']);
      await expectVerified(store);
    } finally {
      await late.service.stop();
    }
  });

  it('keeps a trace once when its late root moves its start into the hour before the one it was exported in', async () => {
    const late = await startLocalXRay();
    try {
      const client = xrayClient(late.endpoint);
      const boundary = Math.floor(Date.now() / 3_600_000 - 2) * 3600;
      const { root, worker } = acrossTheHour(boundary);
      // The worker's segment arrives first: the trace starts at the worker, after the hour boundary.
      await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(worker)] }));
      const store = await freshStore();
      const lateSource = new XRayTraceSource(xrayClient(late.endpoint));
      await exportRange({ source: lateSource, store }, { from: boundary - 60, to: boundary + 60 });
      const hourOf = async () => {
        const keys: string[] = [];
        for await (const key of store.list('traces/')) keys.push(key);
        return keys.map((key) => key.split('/')[2]);
      };
      expect(await hourOf()).toEqual([`hour=${iso(boundary).slice(11, 13)}`]);

      await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify(root)] }));
      client.destroy();
      const now = Date.now() / 1000;
      const report = await exportRange(
        { source: lateSource, store },
        { from: now - 60, to: now, revisit: { from: now - 6 * 3600, to: now + 1 } },
      );
      expect(report).toMatchObject({ tracesExported: 1, tracesMoved: 1 });
      const { traces, segments } = await lakeRows(store);
      expect(traces).toHaveLength(1);
      expect(traces[0]).toMatchObject({
        trace_id: root.trace_id,
        revision: 2,
        start_time: (boundary - 0.3) * 1000,
      });
      expect(segments.map((s) => s.service).sort()).toEqual(['api', 'worker']);
      // The hour before holds it; the hour it left is written without it (an empty file: no rows above).
      expect((await hourOf()).sort()).toEqual(
        [boundary - 3600, boundary].map((hour) => `hour=${iso(hour).slice(11, 13)}`).sort(),
      );
      // Run again: nothing is fetched, nothing moves.
      const again = await exportRange(
        { source: lateSource, store },
        { from: now - 60, to: now, revisit: { from: now - 6 * 3600, to: now + 1 } },
      );
      expect(again).toMatchObject({ tracesExported: 0, tracesMoved: 0 });
      expect((await lakeRows(store)).traces).toHaveLength(1);
      await expectVerified(store);
    } finally {
      await late.service.stop();
    }
  });

  it("mends in a scheduled run the hour no pass writes any more: a stopped run's orphans and an incomplete trace", async () => {
    const store = await freshStore();
    await exportRange({ source, store }, { from: FROM, to: TO, advanceCheckpoint: true });
    const hour10 = 'dt=2026-11-21/hour=10';
    // An incomplete trace: one of its segment rows lost from the hour's segments file.
    const key = partKey('segments', hour10, 0);
    const rows = await decodeParquet('segments', (await store.get(key))!.body);
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.trace_id, (counts.get(row.trace_id) ?? 0) + 1);
    const broken = [...counts].find(([, n]) => n > 2)![0];
    const lost = rows.findIndex((row) => row.trace_id === broken);
    await store.put(key, encodeParquet('segments', rows.toSpliced(lost, 1)));
    // A run that stopped between its two puts: a trace's segment rows without its trace row.
    const tracesKey = partKey('traces', hour10, 0);
    const traceRows = await decodeParquet('traces', (await store.get(tracesKey))!.body);
    const stopped = traceRows.find((row) => row.trace_id !== broken)!.trace_id;
    await store.put(
      tracesKey,
      encodeParquet(
        'traces',
        traceRows.filter((row) => row.trace_id !== stopped),
      ),
    );
    // Another, its trace since moved to another hour (here: one X-Ray never had).
    const ghost = trace(Date.UTC(2026, 10, 21, 10, 40) / 1000);
    const dying: ObjectStore = Object.assign(Object.create(store) as FsStore, {
      put: async (k: string, body: Uint8Array, put?: PutOptions) => {
        if (k.startsWith('traces/')) throw new Error('stopped');
        return store.put(k, body, put);
      },
    });
    await expect(mergeIntoHourFiles(dying, [rowsOf(ghost)])).rejects.toThrow('stopped');
    expect((await verifyLake(store)).problems.map((p) => p.kind).sort()).toEqual(['incomplete', 'orphans']);

    const config = exportConfigFromEnv({ LAKE_ROOT: store.location, EXPORT_REVISIT_HOURS: '1' });
    const metrics: [string, number][] = [];
    const deps = {
      source,
      store,
      logger: silent.logger,
      metrics: {
        addMetric: (name: string, _unit: string, value: number) => void metrics.push([name, value]),
      },
    };
    // 13:00: hour 10 has left the revisit hour and the orphans' grace; a new lake's first mended hour.
    const one = Date.UTC(2026, 10, 21, 13);
    const first = await runScheduledExport(config, { ...deps, now: () => one });
    expect(first.healed).toMatchObject({
      from: '2026-11-21T10:00:00.000Z',
      to: '2026-11-21T11:00:00.000Z',
      problemsFound: 2,
      tracesWithdrawn: 1,
      // The hour exported again: the withdrawn trace and the stopped run's, which X-Ray has, are whole again.
      tracesReexported: 2,
      problemsLeft: [],
      // The moved trace's rows are dated now, not dropped: they might be a writer's between its puts.
      pendingOrphanTraces: 1,
    });
    expect(metrics).toEqual(
      expect.arrayContaining([
        ['LakeProblemsFound', 2],
        ['LakeProblemsLeft', 0],
        ['TracesReexported', 2],
      ]),
    );
    expect((await readCheckpoint(store))?.healedPosition).toBe(Date.UTC(2026, 10, 21, 10) / 1000);
    // Past the grace the next run checks from that hour again, and the rows no run claimed are dropped.
    const second = await runScheduledExport(config, { ...deps, now: () => one + ORPHAN_GRACE_MS });
    expect(second.healed).toMatchObject({
      from: '2026-11-21T10:00:00.000Z',
      to: '2026-11-21T12:00:00.000Z',
      problemsFound: 1,
      orphansDropped: 1,
      pendingOrphanTraces: 0,
    });
    expect((await readCheckpoint(store))?.healedPosition).toBe(Date.UTC(2026, 10, 21, 12) / 1000);
    expect(await expectVerified(store)).toMatchObject({ traces: sourceIds.length, segments: sourceSegments });
    // Each hour once: the next run has nothing due.
    const third = await runScheduledExport(config, { ...deps, now: () => one + ORPHAN_GRACE_MS + 300_000 });
    expect(third.healed).toBeUndefined();
  });

  it('keeps a run whose mending fails a successful export, counts the failure, and mends in the next run', async () => {
    const store = await freshStore();
    await exportRange({ source, store }, { from: FROM, to: TO, advanceCheckpoint: true });
    // The store cannot list for a while: only the mending lists the lake's days (an unreadable file would
    // be a problem it reports, not a failure).
    let broken = true;
    const flaky: ObjectStore = Object.assign(Object.create(store) as FsStore, {
      list: (prefix: string) => {
        if (broken && prefix.includes('dt=')) throw new Error('disk on fire');
        return store.list(prefix);
      },
    });
    const config = exportConfigFromEnv({ LAKE_ROOT: store.location, EXPORT_REVISIT_HOURS: '1' });
    const metrics: [string, number][] = [];
    const errors: string[] = [];
    const deps = {
      source,
      store: flaky,
      logger: { ...silent.logger, error: (message: string) => void errors.push(message) },
      metrics: {
        addMetric: (name: string, _unit: string, value: number) => void metrics.push([name, value]),
      },
    };
    const one = Date.UTC(2026, 10, 21, 13);
    const first = await runScheduledExport(config, { ...deps, now: () => one });
    expect(first.mendingFailed).toBe('disk on fire');
    expect(first.healed).toBeUndefined();
    expect(metrics).toContainEqual(['LakeMendingFailed', 1]);
    expect(errors).toEqual([LAKE_MENDING_FAILED_LOG]);
    // The export's own progress is kept; the mending's has not moved, so hour 10 is due again.
    const checkpoint = await readCheckpoint(store);
    expect(checkpoint?.position).toBe(one / 1000 - config.lagMinutes * 60);
    expect(checkpoint?.healedPosition).toBeUndefined();
    broken = false;
    const second = await runScheduledExport(config, { ...deps, now: () => one + 300_000 });
    expect(second.mendingFailed).toBeUndefined();
    expect(second.healed).toMatchObject({ from: '2026-11-21T10:00:00.000Z', problemsLeft: [] });
    expect(metrics.filter(([name]) => name === 'LakeMendingFailed')).toHaveLength(1);
  });

  it('splits a revisit that lists more traces than a unit holds, and exports each once', async () => {
    // Every simulated trace was received (updated) while beforeAll ran, so a revisit by update time over
    // the last hours lists all of them.
    const store = await freshStore();
    const now = Math.ceil(Date.now() / 1000);
    const report = await exportRange(
      { source, store },
      { from: now, to: now, revisit: { from: now - 2 * 3600, to: now + 1 }, maxTracesPerUnit: 200 },
    );
    // Each exported once. X-Ray's windows are inclusive at both ends, so a trace updated exactly on a split's
    // boundary (a batch received at a whole second, now and then) is listed by both halves: `scanned`
    // counts listings, and the second listing finds its revision already in the lake.
    expect(report.revisited.exported).toBe(sourceIds.length);
    expect(report.revisited.scanned).toBeGreaterThanOrEqual(sourceIds.length);
    expect(report.revisited.scanned - report.tracesAlreadyCurrent).toBe(sourceIds.length);
    // Two or three hour windows, and the one holding every update split further.
    expect(report.windows).toBeGreaterThan(4);
    const { traces, segments } = await lakeRows(store);
    expect(traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
    expect(segments).toHaveLength(sourceSegments);
  });

  it('resumes a revisit stopped by its deadline from the window it reached', async () => {
    const store = await freshStore();
    const now = Math.ceil(Date.now() / 1000);
    const revisit = { from: now - 3 * 3600, to: now + 1 };
    // The deadline passes once the first window by update time has been listed.
    const options: Parameters<typeof exportRange>[1] = {
      from: now,
      to: now,
      revisit,
      advanceCheckpoint: true,
    };
    const timed: TraceSource = {
      listPage: async (window, next) => {
        const page = await source.listPage(window, next);
        if (!page.nextToken) options.stopAt = 0;
        return page;
      },
      batchGet: (ids) => source.batchGet(ids),
    };
    const stopped = await exportRange({ source: timed, store }, options);
    const firstEnd = (Math.floor(revisit.from / 3600) + 1) * 3600;
    expect(stopped.revisited.stoppedAt).toBe(new Date(firstEnd * 1000).toISOString());
    expect((await readCheckpoint(store))?.revisitPosition).toBe(firstEnd);
    expect((await lakeRows(store)).traces).toHaveLength(0);

    const resumed = await exportRange(
      { source, store },
      { from: now, to: now, revisit: { from: firstEnd, to: revisit.to }, advanceCheckpoint: true },
    );
    expect(resumed.revisited.stoppedAt).toBeUndefined();
    expect((await readCheckpoint(store))?.revisitPosition).toBe(revisit.to);
    expect((await lakeRows(store)).traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
  });

  it('lists the next window while the one before it is fetched and written', async () => {
    const store = await freshStore();
    const secondHour = Date.UTC(2026, 10, 21, 10) / 1000;
    const events: string[] = [];
    const recording: TraceSource = {
      listPage: (window, next) => {
        events.push(`list ${window.from >= secondHour ? 2 : 1}`);
        return source.listPage(window, next);
      },
      batchGet: async (ids) => {
        const result = await source.batchGet(ids);
        events.push(`fetched ${traceIdEpochSeconds(ids[0]!) >= secondHour ? 2 : 1}`);
        return result;
      },
    };
    const report = await exportRange({ source: recording, store }, { from: FROM, to: TO });
    expect(report.tracesExported).toBe(sourceIds.length);
    // The second hour's listing began before the first hour's last fetch came back.
    expect(events.indexOf('list 2')).toBeGreaterThan(-1);
    expect(events.indexOf('list 2')).toBeLessThan(events.lastIndexOf('fetched 1'));
    expect(events.indexOf('fetched 2')).toBeGreaterThan(events.lastIndexOf('fetched 1'));
  });

  it('leaves nothing running when a window fails while the next one is being listed', async () => {
    const store = await freshStore();
    const secondHour = Date.UTC(2026, 10, 21, 10) / 1000;
    let listing = 0;
    let listedAhead = false;
    const failing: TraceSource = {
      listPage: async (window, next) => {
        listing++;
        try {
          if (window.from >= secondHour) {
            listedAhead = true;
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
          return await source.listPage(window, next);
        } finally {
          listing--;
        }
      },
      batchGet: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        throw Object.assign(new Error('AccessDenied'), { name: 'AccessDeniedException' });
      },
    };
    await expect(
      exportRange({ source: failing, store }, { from: FROM, to: TO, advanceCheckpoint: true, fetch: quick }),
    ).rejects.toThrow('AccessDenied');
    // The second hour was being listed when the first failed; the run waited for it before returning.
    expect(listedAhead).toBe(true);
    expect(listing).toBe(0);
    expect(await readCheckpoint(store)).toBeUndefined();
  });

  it('fails on a window listed ahead at its turn, the windows before it durable', async () => {
    const store = await freshStore();
    const secondHour = Date.UTC(2026, 10, 21, 10) / 1000;
    const failing: TraceSource = {
      listPage: async (window, next) => {
        if (window.from >= secondHour)
          throw Object.assign(new Error('AccessDenied on the second hour'), {
            name: 'AccessDeniedException',
          });
        return source.listPage(window, next);
      },
      batchGet: (ids) => source.batchGet(ids),
    };
    await expect(
      exportRange({ source: failing, store }, { from: FROM, to: TO, advanceCheckpoint: true, fetch: quick }),
    ).rejects.toThrow('AccessDenied on the second hour');
    expect((await readCheckpoint(store))?.position).toBe(secondHour);
    const firstHour = sourceIds.filter((id) => traceIdEpochSeconds(id) < secondHour);
    expect((await lakeRows(store)).traces.map((t) => t.trace_id).sort()).toEqual(firstHour);
  });

  it('quarantines malformed documents verbatim with the reason, counts them, and exports the rest', async () => {
    const store = await freshStore();
    const victim = sourceIds[7]!;
    const corrupting: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        const result = await source.batchGet(ids);
        for (const trace of result.traces)
          if (trace.id === victim) trace.documents[0]!.text = trace.documents[0]!.text.slice(0, 40);
        return result;
      },
    };
    const report = await exportRange({ source: corrupting, store }, { from: FROM, to: TO });
    expect(report.quarantinedDocuments).toBe(1);
    expect(report.quarantinedTraces).toEqual([victim]);
    const { traces } = await lakeRows(store);
    expect(traces.map((t) => t.trace_id).sort()).toEqual(sourceIds);
    const folder = join(store.location, '_quarantine');
    const [dt] = await readdir(folder);
    const [hour] = await readdir(join(folder, dt!));
    const file = JSON.parse(await readFile(join(folder, dt!, hour!, `${victim}.json`), 'utf8')) as {
      documents: { problems: string[]; document: string }[];
    };
    expect(file.documents[0]!.problems[0]).toMatch(/^document: not valid JSON/);
    expect(file.documents[0]!.document).toHaveLength(40);
    expect((await stat(join(folder, dt!, hour!, `${victim}.json`))).size).toBeGreaterThan(0);
  });

  it('keeps a quarantined document without its text when redaction rules are on, its size and digest instead', async () => {
    const store = await freshStore();
    const victim = sourceIds[7]!;
    let text = '';
    const corrupting: TraceSource = {
      listPage: (w, t) => source.listPage(w, t),
      batchGet: async (ids) => {
        const result = await source.batchGet(ids);
        for (const trace of result.traces)
          if (trace.id === victim) text = trace.documents[0]!.text = trace.documents[0]!.text.slice(0, 40);
        return result;
      },
    };
    const redact = parseRedaction('users')!;
    const report = await exportRange({ source: corrupting, store }, { from: FROM, to: TO, redact });
    expect(report.quarantinedTraces).toEqual([victim]);
    const keys: string[] = [];
    for await (const key of store.list('_quarantine/')) keys.push(key);
    const file = JSON.parse(new TextDecoder().decode((await store.get(keys[0]!))!.body)) as {
      documents: Record<string, unknown>[];
    };
    expect(keys).toHaveLength(1);
    expect(file.documents[0]).toMatchObject({
      traceId: victim,
      document: null,
      withheld: WITHHELD_REASON,
      bytes: 40,
      sha256: createHash('sha256').update(text).digest('hex'),
    });
    expect((file.documents[0]!.problems as string[])[0]).toMatch(/^document: not valid JSON/);
  });

  it('refuses to run while another run holds the lease', async () => {
    const store = await freshStore();
    const slow: TraceSource = {
      listPage: async (w, t) => (await new Promise((r) => setTimeout(r, 100)), source.listPage(w, t)),
      batchGet: (ids) => source.batchGet(ids),
    };
    const first = exportRange({ source: slow, store }, { from: FROM, to: FROM + 60 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(exportRange({ source, store }, { from: FROM, to: FROM + 60 })).rejects.toThrow(
      /holds the lease/,
    );
    await first;
  });
});
