import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Bucket, Detector, edgeOfSeries, replay } from '../../../lib/insights/detect.js';
import { advanceCheckpoint } from '../../../lib/export/state.js';
import { DetectorStateError, PublishError } from '../../../lib/insights/errors.js';
import type { InsightEntry, InsightPublisher } from '../../../lib/insights/events.js';
import { edgeBucketsBeyondServices } from '../../../lib/insights/lake.js';
import {
  DETECTOR_STATE_KEY,
  decodeState,
  encodeServices,
  encodeState,
  REJECTED_EVENTS_PREFIX,
  runScheduledDetect,
  SCHEDULED_DETECT_DEFAULTS,
} from '../../../lib/insights/scheduled.js';
import type { QueryEngine, Row } from '../../../lib/query/engine.js';
import { FsStore } from '../../../lib/store/fs-store.js';
import { at, series } from '../../helpers/buckets.js';

/**
 * A query engine over in-memory buckets: answers the three queries detection makes (service_buckets in a
 * range, the service graph's edges, sample segments) so the scheduling logic is tested apart from SQL, which the
 * integration test runs on DuckDB.
 */
function bucketEngine(buckets: Bucket[]): QueryEngine & { queries: string[] } {
  const queries: string[] = [];
  return {
    name: 'memory',
    queries,
    async query(sql: string) {
      queries.push(sql);
      let rows: Row[] = [];
      const edgeView = sql.includes('FROM edge_buckets');
      if (edgeView || sql.includes('FROM service_buckets')) {
        const [from, to] = [...sql.matchAll(/from_unixtime\((\d+)\)/g)].map((m) => Number(m[1]));
        // Edge series come from their own view, as caller and callee.
        rows = buckets.flatMap((b) => {
          const edge = edgeOfSeries(b.service);
          if (b.bucket < from! || b.bucket >= to! || !!edge !== edgeView) return [];
          return [(edge ? { ...b, ...edge } : b) as unknown as Row];
        });
      } else if (sql.includes('AS caller')) rows = [{ caller: 'frontend', callee: 'checkout' }];
      return { rows, stats: { engine: 'memory', seconds: 0 } };
    },
    async close() {},
  };
}

class Recorder implements InsightPublisher {
  entries: InsightEntry[] = [];
  failNext = false;
  async publish(entries: readonly InsightEntry[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('bus unavailable');
    }
    this.entries.push(...entries);
  }
}

/** A publisher that delivers, or refuses the next call with the failure given to `refuse`, as EventBridge would. */
function refusingPublisher() {
  const delivered: InsightEntry[] = [];
  let next: { code: string; retryable: boolean } | undefined;
  const publisher: InsightPublisher = {
    async publish(entries) {
      if (next) {
        const { code, retryable } = next;
        next = undefined;
        throw new PublishError(
          'EventBridge bus insights',
          entries.map((e) => ({ insightId: e.Detail.InsightId, code, message: 'no', retryable })),
        );
      }
      delivered.push(...entries);
    },
  };
  return {
    publisher,
    delivered,
    refuse: (failure: { code: string; retryable: boolean }) => (next = failure),
  };
}

const config = { ...SCHEDULED_DETECT_DEFAULTS, historyDays: 1, lagMinutes: 0 };
const date = (i: number) => new Date(at(i) * 1000);

describe('runScheduledDetect', () => {
  let dir: string;
  let store: FsStore;
  const buckets = [
    ...series('checkout', 60, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {})),
    ...series('frontend', 60),
  ];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scheduled-'));
    store = new FsStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads only the buckets since its last run, and keeps insights across runs', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    const first = await runScheduledDetect({ engine, store, publisher }, config, date(25));
    expect(first).toMatchObject({ from: at(13), to: at(25), buckets: 12, services: 2 });
    const second = await runScheduledDetect({ engine, store, publisher }, config, date(33));
    expect(second).toMatchObject({ from: at(25), to: at(33), opened: 1, activeInsights: 1 });
    const read = engine.queries.filter((q) => q.includes('service_buckets')).at(-1)!;
    expect(read).toContain(`from_unixtime(${at(25)})`);
    const third = await runScheduledDetect({ engine, store, publisher }, config, date(60));
    expect(third).toMatchObject({ closed: 1, activeInsights: 0 });
    expect(publisher.entries.map((e) => e.Detail.State)).toEqual(['ACTIVE', 'CLOSED']);
    expect(new Set(publisher.entries.map((e) => e.Detail.InsightId)).size).toBe(1);
  });

  it('with edgeSeries=1 judges the edges too, and publishes metrics of the services only', async () => {
    const failing = (i: number) => (i >= 30 && i < 36 ? { faults: 60 } : {});
    // frontend makes 150 of checkout's 200 calls a bucket (the rest come from outside).
    const engine = bucketEngine([
      ...buckets,
      ...series('frontend -> checkout', 60, (i) => ({ requests: 150, ...failing(i) })),
    ]);
    const publisher = new Recorder();
    const put: string[][] = [];
    const metrics = {
      put: async (b: readonly { services: { service: string }[] }[]) =>
        void put.push(...b.map((m) => m.services.map((x) => x.service))),
    };
    const edges = { ...config, detector: { edgeSeries: 1 } };
    await runScheduledDetect({ engine, store, publisher, metrics }, edges, date(25));
    const report = await runScheduledDetect({ engine, store, publisher, metrics }, edges, date(60));
    expect(report).toMatchObject({ services: 2, opened: 1, closed: 1 });
    expect(engine.queries.filter((q) => q.includes('FROM edge_buckets'))).toHaveLength(2);
    expect(new Set(put.flat())).toEqual(new Set(['checkout', 'frontend']));
    // The edge failing with checkout joins checkout's insight, which checkout roots.
    expect(new Set(publisher.entries.map((e) => e.Detail.InsightId)).size).toBe(1);
    expect(publisher.entries[0]!.Detail.RootCauseServiceId.Name).toBe('checkout');
    expect(publisher.entries[0]!.Detail.Summary).toContain('also anomalous: calls from frontend to checkout');
    // Off, the edge view is not read.
    const off = bucketEngine(buckets);
    await runScheduledDetect(
      { engine: off, store: new FsStore(join(dir, 'off')), publisher },
      config,
      date(25),
    );
    expect(off.queries.some((q) => q.includes('edge_buckets'))).toBe(false);
  });

  it("leaves out an edge's buckets that hold all of its callee's requests: the callee's own again", () => {
    // payments gets 100 calls a bucket, 90 from checkout and 10 from another caller, but in bucket 1 only
    // checkout's 90; checkout's only caller is frontend.
    const services = [
      ...series('checkout', 3),
      ...series('payments', 3, (i) => ({ requests: i === 1 ? 90 : 100 })),
    ];
    const edges = [
      ...series('frontend -> checkout', 3),
      ...series('checkout -> payments', 3, () => ({ requests: 90 })),
    ];
    expect(edgeBucketsBeyondServices(edges, services).map((b) => [b.service, b.bucket])).toEqual([
      ['checkout -> payments', at(0)],
      ['checkout -> payments', at(2)],
    ]);
  });

  it('judges no bucket the exporter has not made whole yet, and judges it once the checkpoint passes it', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    // The exporter is behind: every trace begun before 100 s into bucket 20 is in the lake, no later one.
    await advanceCheckpoint(store, at(20) + 100, 'export-test');
    const first = await runScheduledDetect({ engine, store, publisher }, config, date(25));
    expect(first).toMatchObject({
      from: at(8),
      to: at(20),
      waitingForExport: new Date((at(20) + 100) * 1000).toISOString(),
    });
    // Still behind, past the incident's start: nothing judged, nothing missed.
    await advanceCheckpoint(store, at(20) + 299, 'export-test');
    expect(await runScheduledDetect({ engine, store, publisher }, config, date(40))).toMatchObject({
      from: at(20),
      to: at(20),
      buckets: 0,
    });
    // Caught up: the buckets waited for are judged, and the incident is found in them.
    await advanceCheckpoint(store, at(60), 'export-test');
    const caughtUp = await runScheduledDetect({ engine, store, publisher }, config, date(34));
    expect(caughtUp).toMatchObject({ from: at(20), to: at(34), opened: 1 });
    expect(caughtUp.waitingForExport).toBeUndefined();
    expect(publisher.entries.map((e) => e.Time)).toEqual([new Date(at(31) * 1000).toISOString()]);
  });

  it('keeps decided events in an outbox when publishing fails, and delivers them first next time', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    await runScheduledDetect({ engine, store, publisher }, config, date(25));
    publisher.failNext = true;
    await expect(runScheduledDetect({ engine, store, publisher }, config, date(33))).rejects.toThrow(
      'bus unavailable',
    );
    expect(publisher.entries).toEqual([]);
    const next = await runScheduledDetect({ engine, store, publisher }, config, date(34));
    expect(next).toMatchObject({ redelivered: 1, from: at(33), to: at(34) });
    expect(publisher.entries.map((e) => e.Detail.Event.Summary.split(':')[0])).toEqual(['Insight opened']);
  });

  it('keeps events the destination refuses for good aside and goes on; a failure that may pass keeps the outbox', async () => {
    const engine = bucketEngine(buckets);
    const { publisher, delivered, refuse } = refusingPublisher();
    await runScheduledDetect({ engine, store, publisher }, config, date(25));
    // The opening (bucket 31) is refused for good, as malformed: kept aside, and detection goes on.
    refuse({ code: 'MalformedDetail', retryable: false });
    const refusedRun = await runScheduledDetect({ engine, store, publisher }, config, date(33));
    expect(refusedRun).toMatchObject({ opened: 1 });
    const keys: string[] = [];
    for await (const key of store.list(REJECTED_EVENTS_PREFIX)) keys.push(key);
    expect(keys).toEqual([
      `${REJECTED_EVENTS_PREFIX}${date(33).toISOString().replaceAll(':', '-')}-decided.json`,
    ]);
    const kept = JSON.parse(new TextDecoder().decode((await store.get(keys[0]!))!.body)) as {
      entries: InsightEntry[];
    };
    expect(kept.entries.map((e) => e.Detail.Event.Summary.split(':')[0])).toEqual(['Insight opened']);
    // A failure that may pass, throttling or a permission the bus lacks, fails the run (the alarm on failed
    // detection runs says so) and keeps the outbox; the next run delivers it first.
    for (const failure of [
      { code: 'ThrottlingException', retryable: true },
      { code: 'AccessDeniedException', retryable: false },
    ]) {
      refuse(failure);
      await expect(runScheduledDetect({ engine, store, publisher }, config, date(60))).rejects.toThrow(
        PublishError,
      );
    }
    const next = await runScheduledDetect({ engine, store, publisher }, config, date(61));
    expect(next.redelivered).toBe(1);
    expect(delivered.map((e) => e.Detail.State)).toEqual(['CLOSED']);
  });

  it('sets aside an outbox entry the bus refuses for what it is, and does not count it as redelivered', async () => {
    const engine = bucketEngine(buckets);
    const { publisher, delivered, refuse } = refusingPublisher();
    await runScheduledDetect({ engine, store, publisher }, config, date(25));
    refuse({ code: 'AccessDeniedException', retryable: false });
    await expect(runScheduledDetect({ engine, store, publisher }, config, date(33))).rejects.toThrow(
      PublishError,
    );
    refuse({ code: 'MalformedDetail', retryable: false });
    const next = await runScheduledDetect({ engine, store, publisher }, config, date(34));
    expect(next).toMatchObject({ redelivered: 0, from: at(33), to: at(34) });
    expect(delivered).toEqual([]);
    const keys: string[] = [];
    for await (const key of store.list(REJECTED_EVENTS_PREFIX)) keys.push(key);
    expect(keys).toEqual([
      `${REJECTED_EVENTS_PREFIX}${date(34).toISOString().replaceAll(':', '-')}-outbox.json`,
    ]);
  });

  it('writes the state once in a run that decides nothing, and twice (outbox, then cleared) in one that does', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    const writes: number[] = [];
    const counting = Object.assign(Object.create(store) as FsStore, {
      put: async (key: string, body: Uint8Array, options?: { ifMatch?: string | null }) => {
        if (key === DETECTOR_STATE_KEY) writes[writes.length - 1]!++;
        return store.put(key, body, options);
      },
    });
    for (const now of [25, 29, 33, 34]) {
      writes.push(0);
      await runScheduledDetect({ engine, store: counting, publisher }, config, date(now));
    }
    // The insight opens in the run to 33 (bucket 31); the others decide nothing.
    expect(publisher.entries.map((e) => e.Time)).toEqual([new Date(at(31) * 1000).toISOString()]);
    expect(writes).toEqual([1, 1, 2, 1]);
  });

  it('saves the state as JSON lines, a service a line, and restores the very same detector', () => {
    const detector = new Detector({ historyDays: 1 });
    const events = replay(detector, buckets, at(0), at(33));
    expect(events.length).toBeGreaterThan(0);
    const body = encodeState(detector, events);
    const lines = gunzipSync(body).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3); // the outbox and the rest, then checkout and frontend
    expect(JSON.parse(lines[1]!)[0]).toBe('checkout');
    const loaded = decodeState(body, { historyDays: 1 });
    expect(loaded.outbox).toEqual(events);
    expect(loaded.detector.state()).toEqual(detector.state());
    // Compressed a few characters at a time: many gzip members, one file, the same text.
    const members = encodeState(detector, events, encodeServices(detector, 100));
    expect(members.length).toBeGreaterThan(body.length);
    expect(gunzipSync(members)).toEqual(gunzipSync(body));
    expect(decodeState(members, { historyDays: 1 }).detector.state()).toEqual(detector.state());
    // A state saved as one JSON document, as before, reads the same.
    const document = gzipSync(JSON.stringify({ detector: detector.state(), outbox: events }));
    expect(decodeState(document, { historyDays: 1 }).detector.state()).toEqual(detector.state());
  });

  it('stops without publishing when another run saved the state first', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    await runScheduledDetect({ engine, store, publisher }, config, date(25));
    // A second run that loaded the same state but lost the race to write it.
    const racing = {
      ...store,
      location: store.location,
      get: store.get.bind(store),
      list: store.list.bind(store),
      delete: store.delete.bind(store),
      put: async (key: string, body: Uint8Array, options?: { ifMatch?: string | null }) => {
        if (key === DETECTOR_STATE_KEY) await store.put(key, body); // the other run's write lands first
        return store.put(key, body, options);
      },
    };
    await expect(runScheduledDetect({ engine, store: racing, publisher }, config, date(33))).rejects.toThrow(
      DetectorStateError,
    );
    expect(publisher.entries).toEqual([]);
  });

  it('stops at a state it cannot read, naming it and the ways on, and publishes nothing', async () => {
    const engine = bucketEngine(buckets);
    const publisher = new Recorder();
    for (const [body, why] of [
      [Buffer.from('garbage'), /incorrect header check/],
      [gzipSync('{"services": {}}'), /no detector or outbox in it/],
    ] as const) {
      await store.put(DETECTOR_STATE_KEY, body);
      const run = runScheduledDetect({ engine, store, publisher }, config, date(33));
      await expect(run).rejects.toThrow(DetectorStateError);
      await expect(run).rejects.toThrow(why);
      await expect(run).rejects.toThrow(
        `${store.location}/${DETECTOR_STATE_KEY} is not a readable detector state`,
      );
      await expect(run).rejects.toThrow(/Restore it .* or move it aside/);
      expect(Buffer.from((await store.get(DETECTOR_STATE_KEY))!.body)).toEqual(Buffer.from(body));
    }
    expect(publisher.entries).toEqual([]);
    // Moved aside, the next run starts afresh.
    await store.delete(DETECTOR_STATE_KEY);
    expect(await runScheduledDetect({ engine, store, publisher }, config, date(25))).toMatchObject({
      from: at(13),
      to: at(25),
    });
  });

  it('waits for data on an empty lake instead of starting its clock', async () => {
    const report = await runScheduledDetect(
      { engine: bucketEngine([]), store, publisher: new Recorder() },
      config,
      date(25),
    );
    expect(report.buckets).toBe(0);
    expect(await store.get(DETECTOR_STATE_KEY)).toBeUndefined();
  });
});
