import { gunzipSync, gzipSync } from 'node:zlib';
import { readCheckpoint } from '../export/state.js';
import type { QueryEngine } from '../query/engine.js';
import { PreconditionFailedError } from '../store/errors.js';
import type { ObjectStore } from '../store/object-store.js';
import {
  BUCKET_SECONDS,
  type Bucket,
  Detector,
  type DetectorSettings,
  type DetectorState,
  type EventKind,
  eventKind,
  edgeOfSeries,
  replay,
  type ServiceState,
} from './detect.js';
import type { DetectorOptions } from './detectors.js';
import { DetectorStateError, PublishError } from './errors.js';
import { ENTRY_REFUSED_ERRORS } from './eventbridge-publisher.js';
import type { InsightEntry, InsightPublisher } from './events.js';
import { fillSamples, readBuckets, readEdges, readEdgeSeries } from './lake.js';
import type { LifecycleOptions } from './lifecycle.js';
import { type BucketMetrics, bucketMetrics, type MetricsSink } from './metrics.js';

/** Where scheduled detection keeps its memory: baselines, series lifecycles, open insights, an outbox. */
export const DETECTOR_STATE_KEY = '_state/insights/detector.json.gz';
/** Where events the destination refused for good are kept, a file per refusal, instead of in the outbox. */
export const REJECTED_EVENTS_PREFIX = '_state/insights/rejected/';
/** The log message of events set aside: the stack counts it (a metric filter) and alarms on it. */
export const EVENTS_SET_ASIDE_LOG = 'insight events refused for good, kept aside';

export const SCHEDULED_DETECT_DEFAULTS = {
  /**
   * Buckets younger than this are not judged yet: the exporter's lag plus its run time. Where the lake has
   * an export checkpoint, buckets past it wait too (see {@link runScheduledDetect}).
   */
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
  /** Entries left unpublished by an earlier run (the outbox) and published by this one (not those set aside). */
  redelivered: number;
  stateBytes: number;
  /**
   * Set when the export checkpoint, not `lagMinutes`, ended the judged range: the time (ISO) up to which
   * the exporter has made the lake durable. Later buckets are judged once it moves on.
   */
  waitingForExport?: string;
}

/** A saved state read back: the detector, and the events decided but not yet confirmed published. */
export interface LoadedState {
  detector: Detector;
  /** Sent first by the next run. */
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
  const settings: DetectorSettings = {
    historyDays: config.historyDays,
    ...(config.detector && { detector: config.detector }),
    ...(config.lifecycle && { lifecycle: config.lifecycle }),
    ...(config.source && { source: config.source }),
  };
  const loaded = await loadState(deps.store, settings);
  let etag = loaded?.etag ?? null;
  let redelivered = 0;
  const detector = loaded?.detector ?? new Detector(settings);
  if (loaded && loaded.outbox.length > 0) {
    redelivered = loaded.outbox.length - (await deliver(deps, loaded.outbox, now, 'outbox'));
    ({ etag } = await saveState(deps.store, detector, [], etag));
    log('outbox redelivered', { entries: redelivered });
  }
  // A bucket is judged once only, so one judged before the exporter wrote it would be judged on missing
  // data for good: an export running behind would hide its incidents instead of delaying them. A segment in
  // bucket t belongs to a trace begun before t + 5 min, so the bucket is whole once the checkpoint (every
  // trace begun before it is durable) reaches its end. A lake exported only with --from/--to has none.
  const lagEnd =
    Math.floor((now.getTime() / 1000 - config.lagMinutes * 60) / BUCKET_SECONDS) * BUCKET_SECONDS;
  const checkpoint = await readCheckpoint(deps.store);
  const exported =
    checkpoint === undefined ? undefined : Math.floor(checkpoint.position / BUCKET_SECONDS) * BUCKET_SECONDS;
  const end = exported !== undefined && exported < lagEnd ? exported : lagEnd;
  const next = detector.nextBucket;
  const from = next ?? end - config.firstRunBuckets * BUCKET_SECONDS;
  const to = Math.min(end, from + config.maxBuckets * BUCKET_SECONDS);
  const waiting =
    to === end && end < lagEnd
      ? { waitingForExport: new Date(checkpoint!.position * 1000).toISOString() }
      : {};
  if (waiting.waitingForExport)
    log('waiting for the export', { checkpoint: waiting.waitingForExport, judgeableTo: lagEnd });
  const empty = { buckets: 0, services: 0, opened: 0, updated: 0, closed: 0, redelivered, stateBytes: 0 };
  if (to <= from) return { ...empty, from, to: from, activeInsights: detector.activeInsights, ...waiting };

  // The first run warms the baselines on history; later ones read only the buckets they judge.
  const readFrom = next ?? from - config.historyDays * 86_400;
  const serviceBuckets = await readBuckets(deps.engine, readFrom, to);
  const edgeSeries = config.detector?.edgeSeries === 1;
  const buckets: Bucket[] = edgeSeries
    ? [...serviceBuckets, ...(await readEdgeSeries(deps.engine, serviceBuckets, readFrom, to))]
    : serviceBuckets;
  // The state keeps the graph, so after the first run (the last day's edges) only new calls are read.
  detector.addEdges(await readEdges(deps.engine, next ?? Math.max(readFrom, to - 86_400), to));
  // A lake with nothing yet: wait for data rather than start the detector's clock on nothing.
  if (next === null && buckets.length === 0)
    return { ...empty, from, to: from, activeInsights: 0, ...waiting };
  const metrics: BucketMetrics[] = [];
  // CloudWatch gets the services' metrics, not the edges': those would multiply its metrics (and its bill).
  const events = replay(detector, buckets, from, to, (t, at) =>
    metrics.push(
      bucketMetrics(
        t,
        edgeSeries ? at.filter((b) => !edgeOfSeries(b.service)) : at,
        detector.scores,
        detector.activeInsights,
      ),
    ),
  );
  await fillSamples(deps.engine, events);

  const services = encodeServices(detector);
  const saved = await saveState(deps.store, detector, events, etag, services);
  let bytes = saved.bytes;
  if (events.length) await deliver(deps, events, now, 'decided');
  if (deps.metrics) await deps.metrics.put(metrics);
  // Most runs decide nothing: their state, saved with an empty outbox, needs no second write.
  if (events.length) ({ bytes } = await saveState(deps.store, detector, [], saved.etag, services));
  const count = (kind: EventKind) => events.filter((e) => eventKind(e) === kind).length;
  const report: DetectRunReport = {
    from,
    to,
    buckets: (to - from) / BUCKET_SECONDS,
    services: new Set(serviceBuckets.filter((b) => b.bucket >= from).map((b) => b.service)).size,
    opened: count('opened'),
    closed: count('closed'),
    updated: events.length - count('opened') - count('closed'),
    activeInsights: detector.activeInsights,
    redelivered,
    stateBytes: bytes,
    ...waiting,
  };
  log('detection run', { ...report });
  return report;
}

/**
 * Publishes entries. When the destination refuses some for good because of the entries themselves (too
 * big, malformed: {@link ENTRY_REFUSED_ERRORS}), those are kept under {@link REJECTED_EVENTS_PREFIX} and
 * logged, and the run goes on: left in the outbox, they failed every later run before it judged anything,
 * and detection stopped. Any other failure (throttling past the publisher's attempts, an outage, a bus or
 * role without the permission) still fails the run, which the detection-failing alarm reports, and the
 * outbox is delivered once it passes. Returns how many entries were set aside.
 */
async function deliver(
  deps: ScheduledDetectDeps,
  entries: readonly InsightEntry[],
  now: Date,
  which: 'outbox' | 'decided',
): Promise<number> {
  try {
    await deps.publisher.publish(entries);
    return 0;
  } catch (error) {
    if (!(error instanceof PublishError) || !error.failed.every((f) => ENTRY_REFUSED_ERRORS.has(f.code)))
      throw error;
    const refused = new Set(error.failed.map((f) => f.insightId));
    const key = `${REJECTED_EVENTS_PREFIX}${now.toISOString().replaceAll(':', '-')}-${which}.json`;
    const kept = {
      destination: error.destination,
      failed: error.failed,
      entries: entries.filter((e) => refused.has(e.Detail.InsightId)),
    };
    await deps.store.put(key, new TextEncoder().encode(`${JSON.stringify(kept, null, 2)}\n`));
    (deps.log ?? (() => {}))(EVENTS_SET_ASIDE_LOG, {
      key,
      failed: error.failed,
    });
    return kept.entries.length;
  }
}

async function loadState(
  store: ObjectStore,
  settings: DetectorSettings,
): Promise<(LoadedState & { etag: string }) | undefined> {
  const object = await store.get(DETECTOR_STATE_KEY);
  if (!object) return undefined;
  try {
    return { ...decodeState(object.body, settings), etag: object.etag };
  } catch (error) {
    throw unreadableState(store, error instanceof Error ? error.message : String(error), error);
  }
}

/**
 * gzip's fastest level for the state: rewritten by every run, it is read only by the next. On 1,000 services'
 * 7 days (bench/detect-state.ts) level 1 compresses 47.6 MiB of JSON to 23.0 MiB in 0.75 s, the default
 * level (6) to 21.9 MiB in 1.64 s.
 */
const STATE_GZIP_LEVEL = 1;

/** Characters of JSON lines compressed together, as one gzip member of the state object. */
const STATE_MEMBER_CHARS = 4 * 2 ** 20;

/**
 * The state object's bytes: JSON lines, gzip'd. The first line holds the outbox and the detector's state
 * without its services, each further line one service (see {@link Detector.serviceStates}), compressed a few
 * MiB at a time into consecutive gzip members (one gzip file, RFC 1952 2.2). Written whole as one JSON
 * document, a state held its text and its objects at once: 571 MiB of memory for 1,000 services, and past
 * about 10,000 more text than a JavaScript string may hold. The first line is a member of its own, so the
 * two saves of a run that publishes (outbox, then cleared) share the services' members: `services`, from
 * {@link encodeServices}.
 */
export function encodeState(
  detector: Detector,
  outbox: readonly InsightEntry[],
  services: readonly Buffer[] = encodeServices(detector),
): Buffer {
  const head = `${JSON.stringify({ outbox, detector: detector.stateHeader() })}\n`;
  return Buffer.concat([gzipSync(head, { level: STATE_GZIP_LEVEL }), ...services]);
}

/** The services' lines of a state (see {@link encodeState}), gzip'd `memberChars` characters at a time. */
export function encodeServices(detector: Detector, memberChars = STATE_MEMBER_CHARS): Buffer[] {
  const members: Buffer[] = [];
  let lines: string[] = [];
  let chars = 0;
  const flush = () => {
    members.push(gzipSync(lines.join(''), { level: STATE_GZIP_LEVEL }));
    lines = [];
    chars = 0;
  };
  for (const service of detector.serviceStates()) {
    const line = JSON.stringify(service);
    lines.push(line, '\n');
    chars += line.length + 1;
    if (chars >= memberChars) flush();
  }
  if (lines.length > 0) flush();
  return members;
}

/**
 * The state from its bytes (see {@link encodeState}), restored a service at a time; also reads states saved
 * as one JSON document ({"detector", "outbox"}) before. Throws when they are not a saved state (the caller
 * names the object).
 */
export function decodeState(body: Uint8Array, settings: DetectorSettings): LoadedState {
  const text = gunzipSync(body);
  const newline = text.indexOf(10);
  // JSON.stringify writes no line breaks: one line is a whole document.
  const head = JSON.parse(text.toString('utf8', 0, newline === -1 ? text.length : newline)) as {
    detector?: DetectorState;
    outbox?: InsightEntry[];
  } | null;
  if (typeof head !== 'object' || head === null || !Array.isArray(head.outbox) || !head.detector)
    throw new DetectorStateError('no detector or outbox in it');
  if (newline === -1) return { detector: new Detector(settings, head.detector), outbox: head.outbox };
  function* services(): Generator<ServiceState> {
    for (let at = newline + 1; at < text.length;) {
      const end = text.indexOf(10, at);
      const stop = end === -1 ? text.length : end;
      if (stop > at) yield JSON.parse(text.toString('utf8', at, stop)) as ServiceState;
      at = stop + 1;
    }
  }
  return { detector: Detector.fromState(settings, head.detector, services()), outbox: head.outbox };
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
  detector: Detector,
  outbox: readonly InsightEntry[],
  etag: string | null,
  services?: readonly Buffer[],
): Promise<{ etag: string; bytes: number }> {
  const body = encodeState(detector, outbox, services);
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
