import { gunzipSync, gzipSync } from 'node:zlib';
import type { QueryEngine } from '../query/engine.js';
import { PreconditionFailedError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import {
  BUCKET_SECONDS,
  type Bucket,
  Detector,
  type DetectorState,
  type EventKind,
  eventKind,
  replay,
} from './detect.js';
import type { DetectorOptions } from './detectors.js';
import { DetectorStateError } from './errors.js';
import type { InsightEntry, InsightPublisher } from './events.js';
import { fillSamples, readBuckets, readEdges } from './lake.js';
import type { LifecycleOptions } from './lifecycle.js';
import { type BucketMetrics, bucketMetrics, type MetricsSink } from './metrics.js';

/** Where scheduled detection keeps its memory: baselines, series lifecycles, open insights, an outbox. */
export const DETECTOR_STATE_KEY = '_state/insights/detector.json.gz';

export const SCHEDULED_DETECT_DEFAULTS = {
  /** Buckets younger than this are not judged yet: the exporter's lag plus its run time. */
  lagMinutes: 15,
  /** Buckets one run judges at most; a detector that fell behind catches up over several runs. */
  maxBuckets: 288,
  /** On the very first run, the buckets judged (emitting insights) after warming up on history. */
  firstRunBuckets: 12,
} as const;

export interface ScheduledDetectConfig {
  lagMinutes: number;
  historyDays: number;
  maxBuckets: number;
  firstRunBuckets: number;
  detector?: Partial<DetectorOptions>;
  lifecycle?: Partial<LifecycleOptions>;
  source?: string;
}

export interface ScheduledDetectDeps {
  engine: QueryEngine;
  /** The lake's store: the state lives under `_state/`. */
  store: ObjectStore;
  publisher: InsightPublisher;
  metrics?: MetricsSink;
  log?: (message: string, fields: Record<string, unknown>) => void;
}

/** What one scheduled run did, also logged. */
export interface DetectRunReport {
  /** Epoch seconds: buckets in [from, to) were judged. Equal when there was nothing new. */
  from: number;
  to: number;
  buckets: number;
  services: number;
  opened: number;
  updated: number;
  closed: number;
  activeInsights: number;
  /** Entries left unpublished by an earlier run (the outbox) and published by this one. */
  redelivered: number;
  stateBytes: number;
}

export interface SavedState {
  detector: DetectorState;
  /** Events decided but not yet confirmed published: sent first by the next run. */
  outbox: InsightEntry[];
}

/**
 * One scheduled detection run: loads the detector's state from `_state/`, judges every complete bucket
 * since the last run (at most `maxBuckets`), and publishes the events. The events are saved in the state
 * (an outbox) before they are published and cleared after, with conditional writes: a crash after deciding
 * loses nothing (the next run sends the outbox), a restart never decides an insight twice, and two
 * overlapping runs cannot both advance (the second's write fails and it publishes nothing). Delivery is
 * at least once: a consumer deduplicates on InsightId + Event.EventTime.
 */
export async function runScheduledDetect(
  deps: ScheduledDetectDeps,
  config: ScheduledDetectConfig,
  now: Date = new Date(),
): Promise<DetectRunReport> {
  const log = deps.log ?? (() => {});
  const loaded = await loadState(deps.store);
  let etag = loaded?.etag ?? null;
  let redelivered = 0;
  if (loaded && loaded.state.outbox.length > 0) {
    await deps.publisher.publish(loaded.state.outbox);
    redelivered = loaded.state.outbox.length;
    ({ etag } = await saveState(deps.store, { ...loaded.state, outbox: [] }, etag));
    log('outbox redelivered', { entries: redelivered });
  }
  const detector = new Detector(
    {
      historyDays: config.historyDays,
      ...(config.detector && { detector: config.detector }),
      ...(config.lifecycle && { lifecycle: config.lifecycle }),
      ...(config.source && { source: config.source }),
    },
    loaded?.state.detector,
  );
  const end = Math.floor((now.getTime() / 1000 - config.lagMinutes * 60) / BUCKET_SECONDS) * BUCKET_SECONDS;
  const next = detector.nextBucket;
  const from = next ?? end - config.firstRunBuckets * BUCKET_SECONDS;
  const to = Math.min(end, from + config.maxBuckets * BUCKET_SECONDS);
  const empty = { buckets: 0, services: 0, opened: 0, updated: 0, closed: 0, redelivered, stateBytes: 0 };
  if (to <= from) return { ...empty, from, to: from, activeInsights: detector.activeInsights };

  // The first run warms the baselines on history; later ones read only the buckets they judge.
  const readFrom = next ?? from - config.historyDays * 86_400;
  const buckets: Bucket[] = await readBuckets(deps.engine, readFrom, to);
  // The state keeps the graph, so after the first run (the last day's edges) only new calls are read.
  detector.addEdges(await readEdges(deps.engine, next ?? Math.max(readFrom, to - 86_400), to));
  // A lake with nothing yet: wait for data rather than start the detector's clock on nothing.
  if (next === null && buckets.length === 0) return { ...empty, from, to: from, activeInsights: 0 };
  const metrics: BucketMetrics[] = [];
  const events = replay(detector, buckets, from, to, (t, at) =>
    metrics.push(bucketMetrics(t, at, detector.scores, detector.activeInsights)),
  );
  await fillSamples(deps.engine, events);

  const state: SavedState = { detector: detector.state(), outbox: events };
  const saved = await saveState(deps.store, state, etag);
  let bytes = saved.bytes;
  if (events.length) await deps.publisher.publish(events);
  if (deps.metrics) await deps.metrics.put(metrics);
  // Most runs decide nothing: their state, saved with an empty outbox, needs no second write.
  if (events.length) ({ bytes } = await saveState(deps.store, { ...state, outbox: [] }, saved.etag));
  const count = (kind: EventKind) => events.filter((e) => eventKind(e) === kind).length;
  const report: DetectRunReport = {
    from,
    to,
    buckets: (to - from) / BUCKET_SECONDS,
    services: new Set(buckets.filter((b) => b.bucket >= from).map((b) => b.service)).size,
    opened: count('opened'),
    closed: count('closed'),
    updated: events.length - count('opened') - count('closed'),
    activeInsights: detector.activeInsights,
    redelivered,
    stateBytes: bytes,
  };
  log('detection run', { ...report });
  return report;
}

async function loadState(store: ObjectStore): Promise<{ state: SavedState; etag: string } | undefined> {
  const object = await store.get(DETECTOR_STATE_KEY);
  if (!object) return undefined;
  let state: SavedState;
  try {
    state = decodeSavedState(object.body);
  } catch (error) {
    throw unreadableState(store, error instanceof Error ? error.message : String(error), error);
  }
  return { state, etag: object.etag };
}

/**
 * gzip's fastest level for the state: rewritten by every run, it is read only by the next. On 1,000 services'
 * 7 days (bench/detect-state.ts) level 1 compresses 47.6 MiB of JSON to 23.0 MiB in 0.75 s, the default
 * level (6) to 21.9 MiB in 1.64 s.
 */
const STATE_GZIP_LEVEL = 1;

/** The state object's bytes: gzip'd JSON. */
export function encodeSavedState(state: SavedState): Buffer {
  return gzipSync(JSON.stringify(state), { level: STATE_GZIP_LEVEL });
}

/** The state from its bytes; throws when they are not a saved state (the caller names the object). */
export function decodeSavedState(body: Uint8Array): SavedState {
  const state = JSON.parse(gunzipSync(body).toString('utf8')) as SavedState;
  if (typeof state !== 'object' || state === null || !Array.isArray(state.outbox) || !state.detector)
    throw new DetectorStateError('no detector or outbox in it');
  return state;
}

/** The state cannot be read: say what it was, that nothing was done, and the two ways on. */
function unreadableState(store: ObjectStore, why: string, cause?: unknown): DetectorStateError {
  return new DetectorStateError(
    `${store.location}/${DETECTOR_STATE_KEY} is not a readable detector state (${why}); nothing was published ` +
      'or written over it. Restore it (from an earlier S3 object version, say), or move it aside: the next run ' +
      'then starts afresh, learning from the lake, and insights open in the lost state get no CLOSED event ' +
      '(those still anomalous open again under new ids)',
    cause === undefined ? undefined : { cause },
  );
}

async function saveState(
  store: ObjectStore,
  state: SavedState,
  etag: string | null,
): Promise<{ etag: string; bytes: number }> {
  const body = encodeSavedState(state);
  try {
    return { etag: (await store.put(DETECTOR_STATE_KEY, body, { ifMatch: etag })).etag, bytes: body.length };
  } catch (error) {
    if (error instanceof PreconditionFailedError)
      throw new DetectorStateError(
        'another detection run saved the detector state first; this run stops without publishing',
        { cause: error },
      );
    throw error;
  }
}
