import { hexDigest } from '../digest.js';
import {
  DETECTOR_DEFAULTS,
  type DetectorOptions,
  latencyBand,
  latencyBandAround,
  latencyCountScore,
  latencyMedianVerdict,
  latencyWindowVerdict,
  latencyVerdict,
  latencyNoiseStep,
  medianInPlace,
  noiseCritical,
  noiseStateSize,
  ownRateImprobable,
  rateAnomalous,
  rateScore,
  rateScoreCap,
  rateVerdict,
  type Verdict,
} from './detectors.js';
import { DetectorStateError } from './errors.js';
import { FAULTS, LATENCY_NORMAL, NORMAL, P50, P95, REQUESTS, STRIDE, TIME } from './ring.js';
import { type LatencyWindow, RecentWindows, SeasonalWindows } from './seasonal.js';
import {
  INSIGHT_CATEGORIES,
  INSIGHT_DETAIL_TYPE,
  INSIGHT_SOURCE,
  type InsightCategory,
  type InsightEntry,
} from './events.js';
import {
  initialSeriesState,
  LIFECYCLE_DEFAULTS,
  type LifecycleOptions,
  type SeriesState,
  step,
} from './lifecycle.js';

/** One service's 5-minute bucket, as the `service_buckets` view returns it (bucket as epoch seconds). */
export interface Bucket {
  service: string;
  bucket: number;
  requests: number;
  errors: number;
  faults: number;
  throttles: number;
  p95: number | null;
  /** The bucket's median latency, when the view gives it: the baseline of the latency count test's shift check. */
  p50?: number | null;
  /**
   * The bucket's latency histogram as `service_buckets` writes it (JSON `{"bin": count}`, see
   * LATENCY_BINS_PER_OCTAVE), kept as text and parsed only when a p95 crosses its band. Without it the
   * latency test is the band alone.
   */
  latencyBins?: string | null;
}

/** Why an event was published: an insight opened, its root cause moved, it spread, its impact changed, it closed. */
export type EventKind = 'opened' | 'root' | 'spread' | 'impact' | 'closed';
const KINDS = new WeakMap<InsightEntry, EventKind>();

/** The kind of an event this process's detector emitted (undefined for one read back from JSON). */
export function eventKind(entry: InsightEntry): EventKind | undefined {
  return KINDS.get(entry);
}

/** A caller → callee edge of the service graph (`service_edges`). */
export interface Edge {
  caller: string;
  callee: string;
}

/**
 * An edge series' name (`edgeSeries`): `caller -> callee`. X-Ray takes only letters, numbers, whitespace and
 * `_ . : / % & # = + \ - @` in a segment's name
 * (https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html), so no service's name
 * holds a `>`, and none reads as an edge.
 */
export const EDGE_SERIES_SEPARATOR = ' -> ';

/** The series name of an edge (see {@link EDGE_SERIES_SEPARATOR}). */
export function edgeSeriesName(edge: Edge): string {
  return `${edge.caller}${EDGE_SERIES_SEPARATOR}${edge.callee}`;
}

/** The edge a series name stands for, or undefined for a service's. */
export function edgeOfSeries(name: string): Edge | undefined {
  const at = name.indexOf(EDGE_SERIES_SEPARATOR);
  if (at < 0) return undefined;
  return { caller: name.slice(0, at), callee: name.slice(at + EDGE_SERIES_SEPARATOR.length) };
}

const ROOT_EDGES = new WeakMap<InsightEntry, Edge>();

/**
 * The edge an event's insight is rooted at, when its root cause is one caller's calls (`edgeSeries`) rather
 * than a service as a whole; undefined otherwise, and for an event read back from JSON.
 */
export function rootEdge(entry: InsightEntry): Edge | undefined {
  return ROOT_EDGES.get(entry);
}

export const BUCKET_SECONDS = 300;
const DAY = 86_400;

export const DETECT_DEFAULTS = {
  /** Days of history the baselines look back over (and the detector state keeps per service). */
  historyDays: 7,
} as const;

export interface DetectOptions {
  /** Epoch seconds: buckets in [from, to) are judged; earlier ones only serve as history. */
  from: number;
  to: number;
  detector?: Partial<DetectorOptions>;
  lifecycle?: Partial<LifecycleOptions>;
  source?: string;
  historyDays?: number;
  edges?: readonly Edge[];
}

/** −log10(0.05): a bucket joins a low-traffic window test only if its own failures are this unusual. */
const WINDOW_BUCKET_MIN_SCORE = -Math.log10(0.05);

const CATEGORY_INDEX = { FAULT: 0, ERROR: 1, THROTTLE: 2, LATENCY: 3 } as const;

/**
 * Services an event names: `TopAnomalousServices` lists at most the root and this many more, the Summary
 * a few (then how many more). An incident across a whole fleet (a shared dependency down) made an event
 * of every anomalous service twice over, past EventBridge's 256 KB an entry at a few thousand, and an
 * entry too big is refused for good: the event, and every run after it, failed.
 */
export const EVENT_SERVICES_MAX = { top: 25, summary: 10 } as const;

/** The categories judged per service and bucket (a module constant, so the hot loop's bound is one). */
const CATEGORY_COUNT = INSIGHT_CATEGORIES.length;

/** One anomalous series (service × category) inside an insight. */
interface Member {
  service: string;
  category: InsightCategory;
  start: number;
  end?: number;
  open: boolean;
  peak: Verdict;
  last: Verdict;
  /** The bucket of `last` (absent in states saved before it was kept). */
  lastAt?: number;
  /** Where its current open run began, when it opened again after closing within the incident (else `start`). */
  since?: number;
  /** The bucket its level was taken as the series' new normal (see `newNormalAfterBuckets`). */
  accepted?: number;
  requests: number;
  failures: number;
}

/** An open insight: anomalous series that share a cause, with the farthest-downstream one as root. */
interface Incident {
  id: string;
  start: number;
  root: string;
  members: Member[];
  /**
   * What was last published: root, members, and the primary metric's value. A latency insight's verdicts
   * come from the p95 test or the median test; each is compared with its own (`observedP50` the median's),
   * as a p50 against a p95 is a "change" of 3× every time the deciding test changes.
   */
  published: { root: string; signature: string; observed: number; observedP50?: number };
  /**
   * Verdicts in a row, one a bucket, whose metric moved by `updateImpactRatio` from what was published, all
   * the same way (negative: down). An impact change is published once `openAfter` of them say so: one
   * bucket's rate or p95 swings by 2× on sampling noise alone.
   */
  impactRun?: number;
}

/**
 * The serialized detector: what `_state/` keeps between scheduled runs. Version 2 keeps the rings'
 * latencies as float32 bytes (see {@link SerializedService}); version 1 states, which kept them as JSON
 * numbers, are still read.
 */
export interface DetectorState {
  version: 1 | 2;
  /** The next bucket to judge (epoch seconds), or null before the first. */
  next: number | null;
  historyBuckets: number;
  services: Record<string, SerializedService>;
  incidents: Incident[];
  edges: [string, string][];
}

/** The detector state without its services: what a saved state holds besides one line a service. */
export type DetectorStateHeader = Omit<DetectorState, 'services'>;

/** A service's history as the state keeps it, with its name. */
export type ServiceState = [name: string, service: SerializedService];

/** The options a detector is built with (see {@link Detector}'s constructor). */
export interface DetectorSettings {
  detector?: Partial<DetectorOptions>;
  lifecycle?: Partial<LifecycleOptions>;
  source?: string;
  historyDays?: number;
}

export interface SerializedService {
  /** The oldest filled slot's bucket; the slots follow every BUCKET_SECONDS (the ring is written without gaps). */
  start: number;
  /** Each slot's bucket, only if the slots were not contiguous. */
  time?: number[];
  /** Columns of the history ring's filled slots, oldest first. */
  requests: number[];
  errors: number[];
  faults: number[];
  throttles: number[];
  /**
   * The slots' p95s (and p50s), base64 of little-endian float32s, NaN for none: the very values the ring
   * holds. As JSON numbers (version 1) each needed nine significant digits to read back to the same float32,
   * and writing them was most of a scheduled run's time for a large fleet (bench/detect-state.ts).
   * `p50f32` is absent when no bucket had a p50.
   */
  p95f32?: string;
  p50f32?: string;
  /** Version 1's p95s and p50s (p50 absent in states written before it was kept). */
  p95?: (number | null)[];
  p50?: (number | null)[];
  normal: number[];
  /** The latency noise model's cells (see NOISE in detectors.ts); absent in states written before it. */
  noise?: number[];
  /** The latency histograms the window keeps (see `latencyWindowBuckets`), [bucket, text]; absent when none. */
  bins?: [number, string][];
  lifecycle: SeriesState[];
}

/**
 * The NORMAL cell's bits: bit c (0–3) set when category c was normal in the bucket; bit OPEN_BITS + c set
 * when category c's insight was open as the bucket was judged (so the series' own anomaly rate leaves it out).
 */
const OPEN_BITS = 4;
/**
 * Bit DEFERRED_BITS + c set while rate category c of a normal bucket waits to join the running sums: a
 * bucket that took the low-traffic window test joins `rateBaselineDelayBuckets` later (see
 * {@link ServiceHistory.record}).
 */
const DEFERRED_BITS = 8;
const DEFERRED = 7 << DEFERRED_BITS;

/**
 * Cells of every service side by side in one array, `stride` a service. Two of them: the scalars (SCALARS
 * doubles a service, one cache line: the running sums [requests, failures] for FAULT, ERROR, THROTTLE at
 * SUMS + 2c, and the latency floors, see {@link ServiceHistory.floor}, at FLOOR_P95 and FLOOR_P50), and the
 * latency noise model's state (see {@link latencyNoiseStep}). Judging a bucket reads them for every service in
 * turn; as a small typed array and two small arrays per service, the profile put the time on loading them
 * (gathered here: replay 1.07 → 1.01 s in bench/detect-speed.ts). The rings stay one typed array a service:
 * one array for all of them, service after service, measured no faster.
 */
class FleetArray {
  values: Float64Array;
  private count = 0;

  constructor(readonly stride: number) {
    this.values = new Float64Array(64 * stride);
  }

  /** Room for one more service: the index of its first cell. */
  allocate(): number {
    if ((this.count + 1) * this.stride > this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.count++ * this.stride;
  }
}
const SUMS = 0;
const FLOOR_P95 = 6;
const FLOOR_P50 = 7;
const SCALARS = 8;

/**
 * A service's history ring: one slot per bucket of the last `historyBuckets`, the slot of time t at
 * (t / BUCKET_SECONDS) mod size. Running sums, so judging a bucket costs O(1) for rates and O(days) for
 * latency, whatever the length of history.
 *
 * A slot's fields sit side by side, 8 float32 cells (bucket index, requests, faults, errors, throttles,
 * p95, p50, normal bits): recording a bucket touches one cache line, where a column per field touched
 * eight, and with a thousand services' rings those misses were a third of a replay's time. Float32 is
 * exact for the bucket index until 2129 and for counts up to 16.7 million a bucket (56,000 requests a
 * second for one service); past that a rate's baseline is rounded, not wrong.
 */
class ServiceHistory {
  readonly cells: Float32Array;
  /** Where this service's scalars start in `fleet.values`. */
  readonly base: number;
  /** Where this service's noise model starts in `noise.values`. */
  readonly noiseBase: number;
  /** This service's numbers in the noise model's windows (see {@link SeasonalWindows}), −1 before their first use. */
  seasonal = -1;
  recent = -1;
  /** Slots holding a bucket with traffic: the rate warm-up counts them. */
  withTraffic = 0;
  /** Times of the buckets whose rate categories wait to join the sums, oldest first. */
  private readonly pending: number[] = [];
  /**
   * The latency histograms of the last `windowSize` buckets that had one, at slot (t / BUCKET_SECONDS) mod
   * windowSize, with their buckets: the latency window pools them. Text as the view gives it, parsed only
   * when a window is judged.
   */
  private readonly binsText: (string | undefined)[];
  private readonly binsTime: Float64Array;
  /** Whether the p95 or p50 floor was evicted from the ring and must be recomputed (see {@link floor}). */
  private staleP95 = false;
  private staleP50 = false;
  lifecycle: SeriesState[] = INSIGHT_CATEGORIES.map(() => initialSeriesState());
  /**
   * Bit c set: category c's insight is open (`open`), or open or on a run of anomalies (`busy`). Mirrors
   * `lifecycle` so the hot loop reads one number instead of four objects (see {@link setLifecycle}).
   */
  open = 0;
  busy = 0;

  /**
   * A full ring without traffic, no insight open or on a run, no bucket waiting to join the sums: a series
   * silent for its whole history, which holds nothing a fresh one would not.
   */
  get idle(): boolean {
    return (
      this.recorded >= this.size && this.withTraffic === 0 && this.busy === 0 && this.pending.length === 0
    );
  }

  /** Buckets recorded, up to the ring's size: a ring not yet full has not seen a whole history. */
  private recorded = 0;

  /** Sets category c's lifecycle state and its bits in `open` and `busy`. */
  setLifecycle(c: number, state: SeriesState): void {
    this.lifecycle[c] = state;
    const bit = 1 << c;
    this.open = state.open ? this.open | bit : this.open & ~bit;
    this.busy = state.open || state.anomalousRun > 0 ? this.busy | bit : this.busy & ~bit;
  }

  constructor(
    readonly size: number,
    readonly fleet: FleetArray,
    readonly noise: FleetArray,
    /** Buckets between judging a bucket and adding it to the rate sums (`rateBaselineDelayBuckets`). */
    readonly delay: number,
    /** Buckets whose latency histograms are kept (`latencyWindowBuckets`). */
    readonly windowSize: number,
  ) {
    this.binsText = new Array<string | undefined>(windowSize);
    this.binsTime = new Float64Array(windowSize);
    this.base = fleet.allocate();
    fleet.values[this.base + FLOOR_P95] = Number.POSITIVE_INFINITY;
    fleet.values[this.base + FLOOR_P50] = Number.POSITIVE_INFINITY;
    this.noiseBase = noise.allocate();
    this.cells = new Float32Array(size * STRIDE);
    for (let s = 0; s < size; s++) {
      this.cells[s * STRIDE + P95] = Number.NaN;
      this.cells[s * STRIDE + P50] = Number.NaN;
    }
  }

  slot(t: number): number {
    return Math.floor(t / BUCKET_SECONDS) % this.size;
  }

  /** The bucket held in slot s (epoch seconds), 0 for none. */
  timeAt(s: number): number {
    return this.cells[s * STRIDE + TIME]! * BUCKET_SECONDS;
  }

  requestsAt(s: number): number {
    return this.cells[s * STRIDE + REQUESTS]!;
  }

  /** The p50 of the bucket in slot s, NaN for none. */
  p50At(s: number): number {
    return this.cells[s * STRIDE + P50]!;
  }

  failuresAt(s: number, category: number): number {
    return this.cells[s * STRIDE + FAULTS + category]!;
  }

  /** Whether category c's insight was open when the bucket in slot s was judged. */
  openAt(s: number, category: number): boolean {
    return (this.cells[s * STRIDE + NORMAL]! & (1 << (OPEN_BITS + category))) !== 0;
  }

  /**
   * Stores bucket `b` at time t, evicting the bucket `size` slots earlier from the running sums. Its normal
   * rate categories join the sums at once, or `delay` buckets later where `normal` defers them.
   */
  record(t: number, b: Bucket | undefined, normal: number): void {
    const at = this.slot(t) * STRIDE;
    const { cells, base } = this;
    const scalars = this.fleet.values;
    if (cells[at + TIME] !== 0) {
      const was = cells[at + NORMAL]!;
      const n = cells[at + REQUESTS]!;
      if (n > 0) this.withTraffic--;
      // (A NaN equals nothing, so a slot without a value never holds a floor.)
      if (was & 8) {
        if (cells[at + P95] === scalars[base + FLOOR_P95]) this.staleP95 = true;
        if (cells[at + P50] === scalars[base + FLOOR_P50]) this.staleP50 = true;
      }
      for (let c = 0; c < 3; c++)
        if ((was & ((1 | (1 << DEFERRED_BITS)) << c)) === 1 << c) {
          scalars[base + SUMS + 2 * c]! -= n;
          scalars[base + SUMS + 2 * c + 1]! -= cells[at + FAULTS + c]!;
        }
    }
    const n = b ? b.requests : 0;
    if (n > 0) this.withTraffic++;
    if (this.recorded < this.size) this.recorded++;
    cells[at + TIME] = t / BUCKET_SECONDS;
    cells[at + REQUESTS] = n;
    cells[at + FAULTS] = b ? b.faults : 0;
    cells[at + FAULTS + 1] = b ? b.errors : 0;
    cells[at + FAULTS + 2] = b ? b.throttles : 0;
    cells[at + P95] = b?.p95 ?? Number.NaN;
    cells[at + P50] = b?.p50 ?? Number.NaN;
    const deferred = this.delay > 0 ? normal & DEFERRED : 0;
    cells[at + NORMAL] = (normal & ~DEFERRED) | deferred;
    for (let c = 0; c < 3; c++)
      if ((normal & (1 << c)) !== 0 && (deferred & (1 << (DEFERRED_BITS + c))) === 0) {
        scalars[base + SUMS + 2 * c]! += n;
        scalars[base + SUMS + 2 * c + 1]! += cells[at + FAULTS + c]!;
      }
    if (normal & 8) {
      if (cells[at + P95]! < scalars[base + FLOOR_P95]!) scalars[base + FLOOR_P95] = cells[at + P95]!;
      if (cells[at + P50]! < scalars[base + FLOOR_P50]!) scalars[base + FLOOR_P50] = cells[at + P50]!;
    }
    if (b?.latencyBins) this.keepBins(t, b.latencyBins);
    if (deferred) this.pending.push(t);
    // Rare (quiet services' unusual buckets), so the hot path pays one length check.
    while (this.pending.length > 0 && this.pending[0]! <= t - this.delay * BUCKET_SECONDS) {
      const time = this.pending.shift()!;
      if (!this.has(time)) continue;
      const into = this.slot(time) * STRIDE;
      const bits = cells[into + NORMAL]!;
      cells[into + NORMAL] = bits & ~DEFERRED;
      for (let c = 0; c < 3; c++)
        if (bits & (1 << (DEFERRED_BITS + c))) {
          scalars[base + SUMS + 2 * c]! += cells[into + REQUESTS]!;
          scalars[base + SUMS + 2 * c + 1]! += cells[into + FAULTS + c]!;
        }
    }
  }

  /**
   * The floor of `field` (P95 or P50): a lower bound of every latency baseline's minimum, the smallest usable
   * value in the ring. Kept as points come in; recomputed only when the point holding it is evicted.
   */
  floor(field: typeof P95 | typeof P50): number {
    const at = this.base + (field === P95 ? FLOOR_P95 : FLOOR_P50);
    if (field === P95 ? this.staleP95 : this.staleP50) {
      let floor = Number.POSITIVE_INFINITY;
      for (let s = 0; s < this.cells.length; s += STRIDE) {
        const value = this.cells[s + field]!;
        if (this.cells[s + TIME] !== 0 && this.cells[s + NORMAL]! & 8 && value < floor) floor = value;
      }
      this.fleet.values[at] = floor;
      if (field === P95) this.staleP95 = false;
      else this.staleP50 = false;
    }
    return this.fleet.values[at]!;
  }

  has(t: number): boolean {
    return t > 0 && this.timeAt(this.slot(t)) === t;
  }

  /**
   * Takes category c's level since `start` (epoch seconds) as the series' normal: the buckets before it leave
   * the ring, as if its history began there, and those since count as normal for c (its insight was open
   * over them, so they had been kept out of its baseline). The other categories keep their verdicts.
   */
  restartAt(start: number, c: number): void {
    const { cells, base } = this;
    const scalars = this.fleet.values;
    const bit = 1 << c;
    let kept = 0;
    for (let at = 0; at < cells.length; at += STRIDE) {
      if (cells[at + TIME] === 0) continue;
      const bits = cells[at + NORMAL]!;
      const n = cells[at + REQUESTS]!;
      if (cells[at + TIME]! * BUCKET_SECONDS >= start) {
        kept++;
        if (bits & bit) continue;
        if (c < 3) {
          scalars[base + SUMS + 2 * c]! += n;
          scalars[base + SUMS + 2 * c + 1]! += cells[at + FAULTS + c]!;
        }
        cells[at + NORMAL] = bits | bit;
        continue;
      }
      if (n > 0) this.withTraffic--;
      for (let k = 0; k < 3; k++)
        if ((bits & ((1 | (1 << DEFERRED_BITS)) << k)) === 1 << k) {
          scalars[base + SUMS + 2 * k]! -= n;
          scalars[base + SUMS + 2 * k + 1]! -= cells[at + FAULTS + k]!;
        }
      cells.fill(0, at, at + STRIDE);
      cells[at + P95] = Number.NaN;
      cells[at + P50] = Number.NaN;
    }
    this.recorded = kept;
    this.staleP95 = true;
    this.staleP50 = true;
  }

  /** Keeps bucket t's latency histogram for the window, in place of the one `windowSize` buckets older. */
  private keepBins(t: number, text: string): void {
    const s = (t / BUCKET_SECONDS) % this.windowSize;
    this.binsText[s] = text;
    this.binsTime[s] = t;
  }

  /** The latency histogram of bucket t, if it had one and it is still kept. */
  binsAt(t: number): string | undefined {
    const s = (t / BUCKET_SECONDS) % this.windowSize;
    return this.binsTime[s] === t ? this.binsText[s] : undefined;
  }

  serialize(): SerializedService {
    const out: SerializedService = {
      start: 0,
      requests: [],
      errors: [],
      faults: [],
      throttles: [],
      normal: [],
      lifecycle: this.lifecycle,
    };
    const order = this.slotsInTimeOrder();
    const times = order.map((s) => this.timeAt(s));
    out.start = times[0] ?? 0;
    if (times.some((t, i) => t !== out.start + i * BUCKET_SECONDS)) out.time = times;
    const p95 = new Float32Array(order.length);
    const p50 = new Float32Array(order.length);
    let withP50 = false;
    for (let i = 0; i < order.length; i++) {
      const at = order[i]! * STRIDE;
      out.requests.push(this.cells[at + REQUESTS]!);
      out.faults.push(this.cells[at + FAULTS]!);
      out.errors.push(this.cells[at + FAULTS + 1]!);
      out.throttles.push(this.cells[at + FAULTS + 2]!);
      p95[i] = this.cells[at + P95]!;
      p50[i] = this.cells[at + P50]!;
      if (!Number.isNaN(p50[i])) withP50 = true;
      out.normal.push(this.cells[at + NORMAL]!);
    }
    out.p95f32 = float32ToBase64(p95);
    if (withP50) out.p50f32 = float32ToBase64(p50);
    const noise = this.noise.values.subarray(this.noiseBase, this.noiseBase + this.noise.stride);
    if (noise.some((v) => v !== 0)) out.noise = Array.from(noise);
    const bins: [number, string][] = [];
    this.binsText.forEach((text, s) => {
      if (text !== undefined) bins.push([this.binsTime[s]!, text]);
    });
    if (bins.length > 0) out.bins = bins.sort((x, y) => x[0] - y[0]);
    return out;
  }

  /**
   * The filled slots, oldest first. A ring written bucket after bucket holds only the last `size` buckets,
   * so read from the slot after the newest's it is in time order already; one restored from an older state
   * with gaps may not be, and is sorted.
   */
  private slotsInTimeOrder(): number[] {
    let newest = -1;
    let newestIndex = 0;
    for (let s = 0; s < this.size; s++) {
      const index = this.cells[s * STRIDE + TIME]!;
      if (index > newestIndex) {
        newest = s;
        newestIndex = index;
      }
    }
    const order: number[] = [];
    if (newest < 0) return order;
    let sorted = true;
    let previous = 0;
    for (let k = 1; k <= this.size; k++) {
      const s = (newest + k) % this.size;
      const index = this.cells[s * STRIDE + TIME]!;
      if (index === 0) continue;
      if (index <= previous) sorted = false;
      previous = index;
      order.push(s);
    }
    return sorted ? order : order.sort((a, b) => this.timeAt(a) - this.timeAt(b));
  }

  /** Fills this new history with service `name`'s saved one (see {@link serialize}). */
  load(name: string, data: SerializedService): void {
    // A state saved with another latencyNoiseWindow (or before the model) starts the model afresh.
    if (data.noise?.length === this.noise.stride) this.noise.values.set(data.noise, this.noiseBase);
    const slots = data.requests.length;
    const p95 = data.p95f32 === undefined ? undefined : float32FromBase64(data.p95f32, slots, name, 'p95f32');
    const p50 = data.p50f32 === undefined ? undefined : float32FromBase64(data.p50f32, slots, name, 'p50f32');
    const latency = (values: Float32Array | undefined, old: (number | null)[] | undefined, i: number) => {
      const value = values ? values[i]! : (old?.[i] ?? Number.NaN);
      return Number.isNaN(value) ? null : value;
    };
    for (let i = 0; i < slots; i++) {
      const t = data.time?.[i] ?? data.start + i * BUCKET_SECONDS;
      const bucket: Bucket = {
        service: '',
        bucket: t,
        requests: data.requests[i]!,
        errors: data.errors[i]!,
        faults: data.faults[i]!,
        throttles: data.throttles[i]!,
        p95: latency(p95, data.p95, i),
        p50: latency(p50, data.p50, i),
      };
      this.record(t, bucket, data.normal[i]!);
    }
    for (const [t, text] of data.bins ?? []) this.keepBins(t, text);
    data.lifecycle.forEach((state, c) => this.setLifecycle(c, state));
  }
}

/**
 * Whether a bucket gets a latency verdict at all, as judge() decides: a p95, and requests enough for a
 * verdict of its own or a median (with its histogram) for the latency window's (see `latencyWindowBuckets`).
 * A missing value is null or, as the ring stores it, NaN.
 */
function getsLatencyVerdict(
  requests: number,
  p95: number | null,
  p50: number | null,
  o: DetectorOptions,
): boolean {
  if (p95 === null || Number.isNaN(p95)) return false;
  return (
    requests >= o.latencyMinRequests || (o.latencyWindowBuckets >= 2 && p50 !== null && !Number.isNaN(p50))
  );
}

/** Whether this machine stores typed arrays little-endian (x86-64 and arm64, Lambda's two, do). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Base64 of `values` as little-endian float32s. */
function float32ToBase64(values: Float32Array): string {
  if (LITTLE_ENDIAN)
    return Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64');
  const view = new DataView(new ArrayBuffer(values.byteLength));
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return Buffer.from(view.buffer).toString('base64');
}

/** The float32s of {@link float32ToBase64}'s text, which must hold `count` of them. */
function float32FromBase64(text: string, count: number, service: string, field: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== count * 4)
    throw new DetectorStateError(
      `the state's ${field} of service ${service} holds ${bytes.length / 4} values for ${count} buckets`,
    );
  // A copy, aligned: Buffer's pooled bytes may start anywhere.
  const copy = new Uint8Array(bytes);
  if (LITTLE_ENDIAN) return new Float32Array(copy.buffer);
  const view = new DataView(copy.buffer);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
}

/**
 * The anomaly detector with its memory: per-service history rings (the baselines), per-series lifecycle
 * and the open insights. {@link advance} judges one bucket for every known service, exactly as a scheduled
 * run does; {@link state} serializes all of it for `_state/`, so a run resumed from it emits the same events
 * a continuous run would, and a replay over a range is just a loop over {@link advance}.
 *
 * Insights are grouped by cause: a series that turns anomalous joins an open insight when its service is
 * upstream of that insight's root cause on the service graph (an echo) or downstream of it (then it becomes
 * the root: the farthest-downstream anomalous service is the cause). The same service's categories (a
 * throttle that is also an error) join the same insight.
 */
export class Detector {
  private readonly services = new Map<string, ServiceHistory>();
  private readonly fleet = new FleetArray(SCALARS);
  private readonly noise: FleetArray;
  /** The services' names in the map's (insertion) order. */
  private readonly order: string[] = [];
  /** The histories in `order`'s order: the hot loop walks arrays, not the map's entry iterator. */
  private readonly histories: ServiceHistory[] = [];
  private incidents: Incident[] = [];
  private readonly downstream = new Map<string, Set<string>>();
  private reachCache = new Map<string, Set<string>>();
  private next: number | null = null;
  /** Whether this bucket's anomaly scores are computed (see {@link advance}). */
  private scoring = true;
  /** The current bucket's rate categories that took the window test and were normal (DEFERRED bits). */
  private deferred = 0;
  /**
   * The buckets that bear out the window verdict judge() last returned, that one included: with failures
   * (rates) or with a p50 above the line (latency). 0 when the verdict was not a window's.
   */
  private windowSpan = 0;
  /** The scores of the last judged bucket, by position in `order`. */
  private scoreArray = new Float64Array(64);
  private score = 0;
  /** The smallest point of the last latency baseline built (for the screen in judge). */
  private baselineMin = 0;
  private readonly detector: DetectorOptions;
  /** The thresholds a series with an open insight is held to (see `holdFactor`). */
  private readonly held: DetectorOptions;
  private readonly lifecycle: LifecycleOptions;
  private readonly historyBuckets: number;
  /** Days of the seasonal baseline the noise model's sorted windows keep. */
  private readonly seasonalDays: number;
  /** The noise model's sorted seasonal and recent windows of every service's p95, made at their first use. */
  private seasonal?: SeasonalWindows;
  private recent?: RecentWindows;
  private readonly rateDelay: number;
  private readonly scratch: Float64Array;
  /** −log10 of rateAlpha, at the normal and the held thresholds: the rate score's unit. */
  private readonly rateCritical: number;
  private readonly heldRateCritical: number;
  /** The noise model's critical standing (see latencyNoiseAlpha), at the normal and the held thresholds. */
  private readonly noiseCritical: number;
  private readonly heldNoiseCritical: number;
  /** Whether the latency noise model judges the p95 (`latencyNoiseModel`). */
  private readonly noiseModel: boolean;
  /** Whether series named as edges are edges (`edgeSeries`). */
  private readonly edgeSeries: boolean;

  constructor(
    private readonly options: DetectorSettings = {},
    state?: DetectorState,
  ) {
    this.detector = { ...DETECTOR_DEFAULTS, ...options.detector };
    this.lifecycle = { ...LIFECYCLE_DEFAULTS, ...options.lifecycle };
    const h = this.detector.holdFactor;
    this.held = {
      ...this.detector,
      latencyZ: this.detector.latencyZ * h,
      latencyMinIncrease: this.detector.latencyMinIncrease * h,
      latencyMedianIncrease: this.detector.latencyMedianIncrease * h,
      rateAlpha: this.detector.rateAlpha ** h,
      rateWindowAlpha: this.detector.rateWindowAlpha ** h,
      latencyAlpha: this.detector.latencyAlpha ** h,
      latencyWindowAlpha: this.detector.latencyWindowAlpha ** h,
      latencyNoiseAlpha: this.detector.latencyNoiseAlpha ** h,
      latencyNoiseMinIncrease: this.detector.latencyNoiseMinIncrease * h,
    };
    this.historyBuckets = Math.round(
      ((options.historyDays ?? DETECT_DEFAULTS.historyDays) * DAY) / BUCKET_SECONDS,
    );
    if (this.historyBuckets < 1) throw new DetectorStateError('historyDays must cover at least one bucket');
    // Past the ring a bucket would be evicted before it was ever added.
    this.rateDelay = Math.min(this.detector.rateBaselineDelayBuckets, this.historyBuckets - 1);
    this.rateCritical = -Math.log10(this.detector.rateAlpha);
    this.heldRateCritical = -Math.log10(this.held.rateAlpha);
    this.noiseCritical = noiseCritical(this.detector.latencyNoiseAlpha);
    this.heldNoiseCritical = noiseCritical(this.held.latencyNoiseAlpha);
    this.noiseModel = this.detector.latencyNoiseModel === 1;
    this.edgeSeries = this.detector.edgeSeries === 1;
    this.noise = new FleetArray(this.noiseModel ? noiseStateSize(this.detector) : 0);
    // Days of a seasonal baseline, as latencyBaseline's loop counts them.
    this.seasonalDays = Math.floor(this.historyBuckets / (DAY / BUCKET_SECONDS));
    this.scratch = new Float64Array(Math.max(this.historyBuckets, this.detector.recentBuckets) + 1);
    if (state) this.restore(state, Object.entries(state.services));
  }

  /** The next bucket this detector expects (epoch seconds), or null before it has judged any. */
  get nextBucket(): number | null {
    return this.next;
  }

  /** Adds edges of the service graph (idempotent); root causes are resolved over them. */
  addEdges(edges: Iterable<Edge>): void {
    for (const { caller, callee } of edges) {
      const set = this.downstream.get(caller) ?? new Set<string>();
      if (!set.has(callee)) {
        set.add(callee);
        this.reachCache = new Map();
      }
      this.downstream.set(caller, set);
    }
  }

  /**
   * Judges bucket `t` (epoch seconds, a multiple of {@link BUCKET_SECONDS}) for every service seen so far
   * and those in `buckets`, and returns the insight events it causes. With `emit` false the bucket only
   * feeds the baselines (the warm-up before a replay's `from`). With `score` false the anomaly scores
   * (for the AnomalyScore metric, {@link scores}) are not computed, which a replay whose metrics nobody
   * reads need not pay for (0.7 of 1.7 s in bench/detect-speed.ts); decisions are the same either way.
   * Buckets must come in order, without gaps.
   */
  advance(t: number, buckets: readonly Bucket[], emit = true, score = true): InsightEntry[] {
    if (t % BUCKET_SECONDS !== 0)
      throw new DetectorStateError(`bucket ${t} is not aligned to ${BUCKET_SECONDS} s`);
    if (this.next !== null && t !== this.next)
      throw new DetectorStateError(
        `expected bucket ${new Date(this.next * 1000).toISOString()}, got ${new Date(t * 1000).toISOString()}`,
      );
    // Fast path: buckets listing every known service in the detector's own order (a replay of a steady
    // fleet) are matched by position, sparing a map lookup per service and bucket.
    let aligned = buckets.length === this.order.length;
    for (let i = 0; aligned && i < buckets.length; i++) aligned = buckets[i]!.service === this.order[i];
    let byService: Map<string, Bucket> | undefined;
    if (!aligned) {
      byService = new Map<string, Bucket>();
      for (const b of buckets) {
        byService.set(b.service, b);
        if (!this.services.has(b.service)) this.addService(b.service);
      }
    }
    this.scoring = score;
    let position = 0;
    const opened: Member[] = [];
    const closed: { service: string; category: InsightCategory; end: number }[] = [];
    const members = new Map<string, Member>();
    for (const incident of this.incidents)
      for (const m of incident.members) members.set(`${m.service}\u0000${m.category}`, m);
    const inIncidents = new Set([...members.values()].map((m) => m.service));

    const { order, histories } = this;
    let silent: number[] | undefined;
    for (let i = 0; i < order.length; i++) {
      const service = order[i]!;
      const history = histories[i]!;
      const b = byService ? byService.get(service) : buckets[position];
      position++;
      let normal = history.open << OPEN_BITS;
      this.score = 0;
      this.deferred = 0;
      for (let c = 0; c < CATEGORY_COUNT; c++) {
        const verdict = this.judge(history, c, t, b);
        const anomalous = verdict !== undefined;
        if (!anomalous) normal |= 1 << c;
        if (!emit) continue;
        // The common case, a quiet series staying quiet: nothing to step (its normal run only counts when open).
        if (!anomalous && (history.busy & (1 << c)) === 0) continue;
        const category = INSIGHT_CATEGORIES[c]!;
        const state = history.lifecycle[c]!;
        // A bucket without requests says nothing about a rate: it neither breaks a run of anomalies (a quiet
        // service failing every request it gets, with empty buckets between) nor counts towards recovery.
        // A bucket that gets no latency verdict (too thin, and without the histogram the latency window needs)
        // breaks a run towards opening (skipping those too found one more night-time slowdown but raised two
        // more false alarms, bench/README.md), but neither counts towards closing an open one: at night a
        // slowdown was split into up to five insights by them.
        const silent = !b || b.requests === 0;
        if (!anomalous && ((c < 3 && silent) || (c === 3 && state.open && !this.latencyJudgeable(b)))) {
          // ... unless the series has had no request at all for closeSilentBuckets in a row: gone, not quiet.
          if (state.open) {
            const silentRun = silent ? (state.silentRun ?? 0) + 1 : 0;
            if (silentRun >= this.lifecycle.closeSilentBuckets) {
              history.setLifecycle(c, initialSeriesState());
              closed.push({ service, category, end: t - (silentRun - 1) * BUCKET_SECONDS });
            } else if (silentRun !== (state.silentRun ?? 0)) {
              const { silentRun: _, ...rest } = state;
              history.setLifecycle(c, silentRun ? { ...rest, silentRun } : rest);
            }
          }
          continue;
        }
        // A window's verdict stands for its buckets with failures (rates) or with a p50 above the line
        // (latency): spread over openAfter of them or more, it is already a persistent anomaly (at night a
        // quiet service's next request, a success, or a slow service's less slow bucket would otherwise end
        // the run at one). The insight starts at this bucket all the same: the window's earlier buckets may
        // be the service's ordinary ones.
        const span = anomalous ? this.windowSpan : 0;
        let next = step(state, anomalous, this.lifecycle);
        if (span >= this.lifecycle.openAfter && !state.open && !next.state.open)
          next = { state: { ...next.state, open: true }, transition: 'opened' };
        // A series anomalous this often in normal times needs more than a run of openAfter (ownRateAlpha);
        // held back, the run goes on counting and the next anomalous bucket asks again.
        if (next.transition === 'opened' && !this.ownRateAllows(history, c, t, span))
          next = { state: { ...next.state, open: false }, transition: 'none' };
        history.setLifecycle(c, next.state);
        const member = inIncidents.has(service) ? members.get(`${service}\u0000${category}`) : undefined;
        if (next.transition === 'opened') {
          // The run's first bucket: openAfter back, or more when the series' own rate held the opening.
          const start = t - (next.state.anomalousRun - 1) * BUCKET_SECONDS;
          opened.push({
            service,
            category,
            start,
            open: true,
            peak: verdict!,
            last: verdict!,
            requests: 0,
            failures: 0,
          });
        }
        if (next.transition === 'closed')
          closed.push({ service, category, end: t - (this.lifecycle.closeAfter - 1) * BUCKET_SECONDS });
        // Anomalous for newNormalAfterBuckets: the level is the series' new normal. Judged against it from the
        // next bucket on, the insight closes (closeAfter later) saying so.
        if (
          member?.open &&
          next.state.open &&
          member.accepted === undefined &&
          this.lifecycle.newNormalAfterBuckets > 0 &&
          t - (member.since ?? member.start) >= (this.lifecycle.newNormalAfterBuckets - 1) * BUCKET_SECONDS
        ) {
          history.restartAt(member.since ?? member.start, c);
          member.accepted = t;
          // Rebuilt from the ring at their next use, as after loading a state.
          history.seasonal = -1;
          history.recent = -1;
        }
        const target = next.transition === 'opened' ? opened.at(-1) : member?.open ? member : undefined;
        if (target && verdict) {
          if (verdict.score > target.peak.score) target.peak = verdict;
          target.last = verdict;
          target.lastAt = t;
          target.requests += b?.requests ?? 0;
          target.failures += category === 'LATENCY' ? 0 : failures(b, c);
        }
      }
      history.record(t, b, normal | this.deferred);
      if (this.noiseModel) this.noteLatency(history, t);
      if (history.withTraffic === 0) (silent ??= []).push(i);
      // A typed array, not a Map: a double stored in a Map is a heap allocation per service and bucket.
      if (position > this.scoreArray.length) {
        const grown = new Float64Array(this.scoreArray.length * 2);
        grown.set(this.scoreArray);
        this.scoreArray = grown;
      }
      this.scoreArray[position - 1] = this.score;
    }
    this.next = t + BUCKET_SECONDS;
    const events = emit ? this.group(t, opened, closed) : [];
    if (silent) this.forget(silent);
    return events;
  }

  /**
   * Forgets the series at these positions in `order` that are idle (see {@link ServiceHistory.idle}) and in
   * no incident: a service gone (decommissioned, renamed) or edge series after `edgeSeries` was turned off
   * would otherwise be judged, saved and loaded every run for good, each a ring of nothing (about 50 KB of
   * state). One that comes back starts afresh, as its empty ring would have it; what is lost is the latency
   * noise model's learned spread (`latencyNoiseModel`), learned again in `latencyNoiseLearningPoints`
   * buckets. Forgotten in the run as in the state, so a resumed run still does what a continuous one does.
   */
  private forget(positions: readonly number[]): void {
    const members = new Set(this.incidents.flatMap((incident) => incident.members.map((m) => m.service)));
    const drop = new Set(positions.filter((i) => this.histories[i]!.idle && !members.has(this.order[i]!)));
    if (drop.size === 0) return;
    let to = 0;
    for (let i = 0; i < this.order.length; i++) {
      if (drop.has(i)) {
        this.services.delete(this.order[i]!);
        continue;
      }
      this.order[to] = this.order[i]!;
      this.histories[to] = this.histories[i]!;
      this.scoreArray[to] = this.scoreArray[i]!;
      to++;
    }
    this.order.length = to;
    this.histories.length = to;
  }

  /**
   * A verdict when series (history, category) is anomalous at t, else undefined. A held series (its
   * insight open) is judged at the relaxed thresholds, but its verdict shows the normal expected band.
   */
  private judge(history: ServiceHistory, c: number, t: number, b: Bucket | undefined): Verdict | undefined {
    const o = history.open & (1 << c) ? this.held : this.detector;
    this.windowSpan = 0;
    if (c === 3) {
      if (!b || b.p95 === null) return undefined;
      // Too thin for a verdict of its own: only the window can judge it.
      if (b.requests < o.latencyMinRequests) return this.judgeMedian(history, t, b, o, true);
      return this.judgeTail(history, t, b, b.p95, o) ?? this.judgeMedian(history, t, b, o, false);
    }
    if (!b || b.requests === 0 || history.withTraffic < o.rateWarmupBuckets) return undefined;
    const k = failures(b, c);
    if (k === 0) return undefined;
    const critical = o === this.detector ? this.rateCritical : this.heldRateCritical;
    // Screens, where the baseline (with its prior) holds at least the bucket's requests: the predictive's
    // variance is then at most twice the binomial's, and (randomized tests in detectors.test.ts check both) its
    // tail is at least the binomial's where k − 1 ≥ p(n − 1), and above 5% within 1.5 of the binomial's
    // standard deviations of the expected count. There the binomial's bounds prove a bucket normal; on a
    // younger baseline (a service's first buckets) the exact tail is computed. At or below the expected
    // count the score is 0 and not computed.
    const scalars = history.fleet.values;
    const failuresSum = scalars[history.base + SUMS + 2 * c + 1]!;
    const requestsSum = scalars[history.base + SUMS + 2 * c]!;
    const failuresPrior = failuresSum + o.ratePriorFailures;
    const requestsPrior = requestsSum + o.ratePriorRequests;
    const excess = k * requestsPrior - b.requests * failuresPrior;
    if (excess <= 0) return undefined;
    // The posterior Beta(a, beta) of the baseline rate, its mean p (baselineRate; see rateScore).
    const a = failuresPrior;
    const beta = requestsPrior - failuresPrior;
    const screened = requestsPrior >= b.requests;
    // First screen, 1.5 standard deviations: far from any alpha used here, it skips the exact tail (log-gammas
    // and a sum) for most buckets. Written without the division and the square root (mean = n·F/N for
    // baselineRate's F/N): k ≤ mean + 1.5·sd ⟺ (kN − nF)² ≤ 2.25·nF(N − F), on every bucket of every
    // service (replay 1.13 → 1.07 s).
    if (screened && excess * excess <= 2.25 * b.requests * failuresPrior * (requestsPrior - failuresPrior)) {
      if (this.scoring) {
        const q = failuresPrior / requestsPrior;
        const expected = b.requests * q;
        const spread = (requestsPrior + b.requests) / (requestsPrior + 1);
        this.noteScore(normalTailScore((k - expected) / Math.sqrt(expected * (1 - q) * spread)) / critical);
      }
      return undefined;
    }
    const p = failuresPrior / requestsPrior;
    const mean = b.requests * p;
    // Second screen, when no score is wanted: Ash's bound caps the binomial score, and so the predictive's
    // (above); at or under the critical value (and under the window test's entry score where that test
    // applies) the bucket is normal for certain.
    if (!this.scoring && screened && k - 1 >= p * (b.requests - 1)) {
      const cap = rateScoreCap(k, b.requests, p);
      if (cap <= critical && (mean >= o.rateMinFailures || cap < WINDOW_BUCKET_MIN_SCORE)) return undefined;
    }
    const score = rateScore(k, b.requests, a, beta);
    if (this.scoring) this.noteScore(score / critical);
    const baseline = { requests: requestsSum, failures: failuresSum };
    if (rateAnomalous(k, score, o.rateAlpha, o))
      return anomalous(rateVerdict({ requests: b.requests, failures: k }, baseline, this.detector));
    // Low traffic: the last rateWindowBuckets buckets with requests together (no further back than
    // rateWindowMaxBuckets), when this bucket's own failures are at least unusual on their own (else a past
    // burst would keep the window anomalous after it ended).
    if (mean >= o.rateMinFailures || score < WINDOW_BUCKET_MIN_SCORE) return undefined;
    let n = b.requests;
    let kw = k;
    let taken = 1;
    let span = 1;
    for (let i = 1; i < o.rateWindowMaxBuckets && taken < o.rateWindowBuckets; i++) {
      const prior = t - i * BUCKET_SECONDS;
      if (!history.has(prior)) continue;
      const s = history.slot(prior);
      const requests = history.requestsAt(s);
      if (requests === 0) continue;
      n += requests;
      const failed = history.failuresAt(s, c);
      kw += failed;
      // Failures while an insight of the series was open belong to that one, not to a new one.
      if (failed > 0 && !history.openAt(s, c)) span++;
      taken++;
    }
    if (!rateAnomalous(kw, rateScore(kw, n, a, beta), o.rateWindowAlpha, o)) {
      // Unusual on its own, normal with its neighbours so far: its failures wait before they teach the
      // baseline (rateBaselineDelayBuckets), so the windows after it still see the service's old rate.
      this.deferred |= 1 << (DEFERRED_BITS + c);
      return undefined;
    }
    this.windowSpan = span;
    return anomalous(
      rateVerdict({ requests: n, failures: kw }, baseline, {
        ...this.detector,
        rateAlpha: this.detector.rateWindowAlpha,
      }),
    );
  }

  /** The p95 against its band (see {@link latencyBand}), and when the bucket has its histogram, the count test. */
  private judgeTail(
    history: ServiceHistory,
    t: number,
    b: Bucket,
    p95: number,
    o: DetectorOptions,
  ): Verdict | undefined {
    if (this.noiseModel) return this.judgeTailByNoise(history, t, b, o);
    // First screen, O(1): no baseline can have a smaller minimum than the ring's, so below
    // ringMin·(1 + minIncrease) the bucket is normal without building the baseline at all.
    const ringFloor = history.floor(P95) * (1 + o.latencyMinIncrease);
    if (p95 <= ringFloor) {
      if (this.scoring) this.noteScore(ringFloor > 0 && Number.isFinite(ringFloor) ? p95 / ringFloor : 0);
      return undefined;
    }
    const n = this.latencyBaseline(history, t);
    if (n < o.latencyWarmupPoints) return undefined;
    // Screen: high ≥ center·(1 + minIncrease) ≥ min·(1 + minIncrease), so below that it is normal without
    // the medians (most buckets); the score is then an upper bound of p95 / high, still under 1.
    const floor = this.baselineMin * (1 + o.latencyMinIncrease);
    if (p95 <= floor) {
      if (this.scoring) this.noteScore(floor > 0 ? p95 / floor : 0);
      return undefined;
    }
    const band = latencyBand(this.scratch, n, o, b.requests);
    if (this.scoring) this.noteScore(p95 / band.high);
    if (p95 <= band.high) return undefined;
    return this.confirmTail(history, t, b, p95, band.center, o);
  }

  /**
   * Rare: the p95 was judged slow. One slow outlier in a thin bucket, or many slow requests? With the
   * bucket's histogram, the count test against the baseline `center` decides; then the full verdict.
   */
  private confirmTail(
    history: ServiceHistory,
    t: number,
    b: Bucket,
    p95: number,
    center: number,
    o: DetectorOptions,
  ): Verdict | undefined {
    if (
      b.latencyBins &&
      latencyCountScore(b.latencyBins, center, o.latencyTailRate) <= -Math.log10(o.latencyAlpha)
    )
      return undefined;
    // Rebuild the baseline for the full verdict (the band reordered the scratch buffer).
    const points = Array.from(this.scratch.subarray(0, this.latencyBaseline(history, t)));
    return anomalous(latencyVerdict({ value: p95, requests: b.requests }, points, this.detector));
  }

  /**
   * The p95 with the noise model on (`latencyNoiseModel`): against the series' own noise once the model
   * has learned (see {@link latencyNoiseStep}), against the band before; either way, when the bucket has
   * its histogram, borne out by the count test. Every judged bucket feeds the model, so the median and
   * MAD of its baseline are computed every time, where the band's screens skip them for most buckets:
   * that is the model's cost (bench/README.md).
   */
  private judgeTailByNoise(
    history: ServiceHistory,
    t: number,
    b: Bucket,
    o: DetectorOptions,
  ): Verdict | undefined {
    // judge() passes only buckets with a p95.
    const p95 = b.p95!;
    // The baseline from its sorted window (see SeasonalWindows): the seasonal one when it qualifies, else the
    // recent one, as latencyBaseline chooses. The band, and so the MAD, only for a bucket above the median
    // (or a score to note): below it the model's surprise is 0.
    const window = this.latencyWindow(history, t);
    const warm = window.count >= o.latencyWarmupPoints;
    let center = 0;
    let high = Number.POSITIVE_INFINITY;
    let z = 0;
    if (warm) {
      center = window.median();
      if (p95 > center || this.scoring) {
        const band = latencyBandAround(center, window.mad(center), o, b.requests);
        high = band.high;
        // One-sided: a faster bucket is no surprise (only slowdowns are latency anomalies).
        if (p95 > center) z = (p95 - center) / band.spread;
      }
    }
    const standing = latencyNoiseStep(this.noise.values, history.noiseBase, z, o);
    let slow: boolean;
    if (standing === standing) {
      const critical = o === this.detector ? this.noiseCritical : this.heldNoiseCritical;
      if (this.scoring) this.noteScore(standing > 0 ? standing / critical : 0);
      slow = warm && p95 > center * (1 + o.latencyNoiseMinIncrease) && standing > critical;
    } else {
      if (this.scoring && warm) this.noteScore(p95 / high);
      slow = warm && p95 > high;
    }
    return slow ? this.confirmTail(history, t, b, p95, center, o) : undefined;
  }

  /**
   * The median against its baseline, for a bucket with its histogram and p50: a distribution shifted as a
   * whole by less than the p95 band's width (a thin bucket's p95 is too noisy to show it) is slow when its
   * p50 is `latencyMedianIncrease` above the baseline median and more of its requests than chance allows
   * are slower than that median (half of them, normally). Its score is the count test's −log10 p.
   */
  private judgeMedian(
    history: ServiceHistory,
    t: number,
    b: Bucket,
    o: DetectorOptions,
    thin: boolean,
  ): Verdict | undefined {
    const p50 = b.p50;
    if (!b.latencyBins || p50 === null || p50 === undefined) return undefined;
    const increase = 1 + o.latencyMedianIncrease;
    // The same two screens as the p95's: the ring's smallest median, then the baseline's.
    if (p50 <= history.floor(P50) * increase) return undefined;
    const n = this.latencyBaseline(history, t, P50);
    if (n < o.latencyWarmupPoints || p50 <= this.baselineMin * increase) return undefined;
    const points = Array.from(this.scratch.subarray(0, n));
    const center = medianInPlace(this.scratch, n);
    if (this.scoring && !thin) this.noteScore(p50 / (center * increase));
    if (p50 <= center * increase) return undefined;
    if (!thin && latencyCountScore(b.latencyBins, center, 0.5) > -Math.log10(o.latencyAlpha)) {
      const observation = { p50, requests: b.requests, bins: b.latencyBins };
      return anomalous(latencyMedianVerdict(observation, points, this.detector));
    }
    // Its own requests cannot bear the shift out: the window's can (see latencyWindowBuckets).
    if (o.latencyWindowBuckets < 2) return undefined;
    const window = [b.latencyBins];
    let span = 1;
    for (let i = 1; i < o.latencyWindowBuckets; i++) {
      const prior = t - i * BUCKET_SECONDS;
      const bins = history.binsAt(prior);
      if (bins === undefined) continue;
      window.push(bins);
      // As for rates (see advance): the window's other buckets above the line count towards its span,
      // unless judged while the series' insight was open.
      const s = history.slot(prior);
      if (history.has(prior) && history.p50At(s) > center * increase && !history.openAt(s, 3)) span++;
    }
    const verdict = latencyWindowVerdict(p50, window, center, o);
    if (verdict.state !== 'anomalous') return undefined;
    this.windowSpan = span;
    // A held series is judged at the relaxed thresholds and reported at the normal ones (see judge).
    return anomalous(
      o === this.detector ? verdict : latencyWindowVerdict(p50, window, center, this.detector),
    );
  }

  /** {@link getsLatencyVerdict} for a bucket as the view gives it (a median counts only with its histogram). */
  private latencyJudgeable(b: Bucket | undefined): boolean {
    return (
      !!b && getsLatencyVerdict(b.requests, b.p95, b.latencyBins ? (b.p50 ?? null) : null, this.detector)
    );
  }

  /**
   * Whether series (history, category c) may open an insight at t, a run of anomalous buckets having
   * reached openAfter: the anomalous buckets among the last `ownRateWindowBuckets` (this one included) must
   * be improbable at the rate the series was anomalous before them, buckets judged while its insight was
   * open left out (see `ownRateAlpha`). The rate is counted from the ring when asked: this runs only when a
   * series would open, so nothing is kept up to date bucket by bucket.
   */
  private ownRateAllows(history: ServiceHistory, c: number, t: number, span = 0): boolean {
    const o = this.detector;
    if (o.ownRateAlpha >= 1) return true;
    const windowStart = t / BUCKET_SECONDS - o.ownRateWindowBuckets + 1;
    let judged = 0;
    let anomalies = 0;
    // The bucket at t: judged and anomalous (the run's last), not yet in the ring.
    let n = 1;
    let k = 1;
    const { cells } = history;
    for (let at = 0; at < cells.length; at += STRIDE) {
      const index = cells[at + TIME]!;
      const bits = cells[at + NORMAL]!;
      if (index === 0 || bits & (1 << (OPEN_BITS + c))) continue;
      const requests = cells[at + REQUESTS]!;
      // As judge() decides whether a bucket gets a verdict at all (the warm-ups aside); the ring keeps a
      // median only where the view gave one, and so its histogram.
      if (c === 3 ? !getsLatencyVerdict(requests, cells[at + P95]!, cells[at + P50]!, o) : requests === 0)
        continue;
      const anomalous = (bits & (1 << c)) === 0 ? 1 : 0;
      if (index >= windowStart) {
        n++;
        k += anomalous;
      } else {
        judged++;
        anomalies += anomalous;
      }
    }
    // A window's other buckets that bear its verdict out count as anomalous with it (see `span` in advance).
    return ownRateImprobable(Math.min(n, k + Math.max(0, span - 1)), n, anomalies, judged, o);
  }

  private noteScore(score: number): void {
    if (score > this.score) this.score = score;
  }

  /**
   * Each service's anomaly score at the last judged bucket (1 = at the alerting threshold); 0 when that
   * bucket was advanced with `score` false.
   */
  get scores(): ReadonlyMap<string, number> {
    return new Map(this.order.map((service, i) => [service, this.scoreArray[i] ?? 0]));
  }

  /** Insights open now. */
  get activeInsights(): number {
    return this.incidents.length;
  }

  /**
   * Fills the scratch buffer with the latency baseline at t and returns its length: the same time of day
   * (± seasonalWidthBuckets) on earlier days once seasonalMinDays of them have points enough, else the most
   * recent normal buckets. Same rule as {@link baselineFor}, over the ring.
   */
  private latencyBaseline(history: ServiceHistory, t: number, field: typeof P95 | typeof P50 = P95): number {
    const o = this.detector;
    const width = o.seasonalWidthBuckets;
    // Plain slot arithmetic over local references: this runs for every service and bucket.
    // (value !== value is NaN: no value, which for p95 also stands for no requests.)
    const { cells, size } = history;
    const base = Math.floor(t / BUCKET_SECONDS);
    const perDay = DAY / BUCKET_SECONDS;
    const scratch = this.scratch;
    let n = 0;
    let min = Number.POSITIVE_INFINITY;
    let days = 0;
    for (let d = 1; d * perDay <= this.historyBuckets; d++) {
      let found = false;
      for (let j = -width; j <= width; j++) {
        const index = base - d * perDay + j;
        const at = (index % size) * STRIDE;
        const value = cells[at + field]!;
        if (cells[at + TIME] !== index || (cells[at + NORMAL]! & 8) === 0 || value !== value) continue;
        scratch[n++] = value;
        if (value < min) min = value;
        found = true;
      }
      if (found) days++;
    }
    if (days >= o.seasonalMinDays && n >= o.latencyWarmupPoints) {
      this.baselineMin = min;
      return n;
    }
    n = 0;
    min = Number.POSITIVE_INFINITY;
    for (let i = 1; i < this.historyBuckets && n < o.recentBuckets; i++) {
      const index = base - i;
      const at = (index % size) * STRIDE;
      const value = cells[at + field]!;
      if (cells[at + TIME] !== index || (cells[at + NORMAL]! & 8) === 0 || value !== value) continue;
      scratch[n++] = value;
      if (value < min) min = value;
    }
    this.baselineMin = min;
    return n;
  }

  /**
   * The p95's baseline at t as the noise model needs it at every bucket, from the service's sorted windows
   * (see {@link SeasonalWindows}: the same points as {@link latencyBaseline}, without gathering and
   * selecting them each time): the seasonal one once it has `seasonalMinDays` days and the warm-up's
   * points, else the recent one.
   */
  private latencyWindow(history: ServiceHistory, t: number): LatencyWindow {
    const o = this.detector;
    const index = t / BUCKET_SECONDS;
    if (this.seasonalDays >= Math.max(1, o.seasonalMinDays)) {
      this.seasonal ??= new SeasonalWindows(
        DAY / BUCKET_SECONDS,
        this.seasonalDays,
        o.seasonalWidthBuckets,
        P95,
      );
      if (history.seasonal < 0) history.seasonal = this.seasonal.allocate();
      const n = this.seasonal.compute(history.seasonal, index, history.cells, history.size);
      // So many points cannot come from fewer days (2·width + 1 a day at most): no need to count them.
      const certain = n > (o.seasonalMinDays - 1) * (2 * o.seasonalWidthBuckets + 1);
      if (n >= o.latencyWarmupPoints && (certain || this.seasonal.dayCount() >= o.seasonalMinDays)) {
        // The recent window is not kept up to date while the seasonal one judges.
        if (history.recent >= 0) this.recent!.release(history.recent);
        return this.seasonal;
      }
    }
    this.recent ??= new RecentWindows(o.recentBuckets, P95);
    if (history.recent < 0) history.recent = this.recent.allocate();
    this.recent.compute(history.recent, index, history.cells, history.size);
    return this.recent;
  }

  /** Hands the bucket just recorded at t to the noise model's windows of the service (see {@link SeasonalWindows}). */
  private noteLatency(history: ServiceHistory, t: number): void {
    const index = t / BUCKET_SECONDS;
    const at = (index % history.size) * STRIDE;
    const value = history.cells[at + P95]!;
    const normal = (history.cells[at + NORMAL]! & LATENCY_NORMAL) !== 0;
    if (history.seasonal >= 0 && normal && value === value)
      this.seasonal!.note(history.seasonal, index, value);
    if (history.recent >= 0) this.recent!.note(history.recent, index, value, normal);
  }

  /** Services reachable downstream of `service` on the graph (itself excluded unless on a cycle). */
  private reach(service: string): Set<string> {
    const cached = this.reachCache.get(service);
    if (cached) return cached;
    const seen = new Set<string>();
    const stack = [...(this.downstream.get(service) ?? [])];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(this.downstream.get(next) ?? []));
    }
    this.reachCache.set(service, seen);
    return seen;
  }

  private group(
    t: number,
    opened: Member[],
    closed: { service: string; category: InsightCategory; end: number }[],
  ): InsightEntry[] {
    const fresh = new Set<Incident>();
    const rootChanged = new Set<Incident>();
    // Downstream services first, so an echo finds its cause's insight already there.
    opened.sort(
      (a, b) => this.reach(a.service).size - this.reach(b.service).size || (a.service < b.service ? -1 : 1),
    );
    for (const member of opened) {
      const s = member.service;
      const joinable = this.incidents
        .filter((i) => {
          if (i.root === s) return true;
          const rootCategories = i.members.filter((m) => m.service === i.root).map((m) => m.category);
          if (this.reach(s).has(i.root)) return rootCategories.some((c) => explains(c, member.category));
          return this.reach(i.root).has(s) && rootCategories.some((c) => explains(member.category, c));
        })
        .sort((a, b) => a.start - b.start)[0];
      if (!joinable) {
        const incident: Incident = {
          id: insightId(s, member.category, member.start),
          start: member.start,
          root: s,
          members: [member],
          published: { root: s, signature: '', observed: 0 },
        };
        this.incidents.push(incident);
        fresh.add(incident);
        continue;
      }
      const existing = joinable.members.find((m) => m.service === s && m.category === member.category);
      if (existing) {
        existing.open = true;
        delete existing.end;
        delete existing.accepted;
        existing.since = member.start;
        existing.last = member.last;
        if (member.lastAt !== undefined) existing.lastAt = member.lastAt;
        if (member.peak.score > existing.peak.score) existing.peak = member.peak;
        existing.requests += member.requests;
        existing.failures += member.failures;
      } else joinable.members.push(member);
      if (s !== joinable.root && this.reach(joinable.root).has(s)) {
        joinable.root = s;
        rootChanged.add(joinable);
      }
    }
    for (const { service, category, end } of closed)
      for (const incident of this.incidents)
        for (const m of incident.members)
          if (m.service === service && m.category === category && m.open) {
            m.open = false;
            m.end = end;
          }

    const events: InsightEntry[] = [];
    const still: Incident[] = [];
    for (const incident of this.incidents) {
      if (incident.members.every((m) => !m.open)) {
        events.push(this.entry(incident, 'CLOSED', t, 'closed'));
        continue;
      }
      still.push(incident);
      const primary = this.primary(incident);
      const signature = this.signature(incident);
      const observed = primary.last.observed;
      const key = primary.last.quantile === 'p50' ? 'observedP50' : 'observed';
      const reference = incident.published[key] ?? 0;
      const ratio = reference > 0 ? observed / reference : 1;
      const moved =
        primary.lastAt !== t
          ? 0
          : ratio >= this.lifecycle.updateImpactRatio
            ? 1
            : ratio <= 1 / this.lifecycle.updateImpactRatio
              ? -1
              : 0;
      const run = incident.impactRun ?? 0;
      const impactRun = moved === 0 ? 0 : Math.sign(run) === moved ? run + moved : moved;
      if (impactRun === 0) delete incident.impactRun;
      else incident.impactRun = impactRun;
      const impactChanged = Math.abs(impactRun) >= this.lifecycle.openAfter;
      const why = fresh.has(incident)
        ? 'opened'
        : rootChanged.has(incident)
          ? 'root'
          : signature !== incident.published.signature
            ? 'spread'
            : impactChanged
              ? 'impact'
              : undefined;
      if (!why) {
        // The first verdict of the other test: what its later ones are compared with.
        if (reference <= 0) incident.published[key] = observed;
        continue;
      }
      events.push(this.entry(incident, 'ACTIVE', t, why));
      incident.published = { ...incident.published, root: incident.root, signature, [key]: observed };
      delete incident.impactRun;
    }
    this.incidents = still;
    return events;
  }

  private signature(incident: Incident): string {
    return incident.members
      .map((m) => `${m.service}/${m.category}`)
      .sort()
      .join(',');
  }

  /** The root's series that opened first: its metric is the insight's. */
  private primary(incident: Incident): Member {
    const ofRoot = incident.members.filter((m) => m.service === incident.root);
    return ofRoot.sort(
      (a, b) => a.start - b.start || CATEGORY_INDEX[a.category] - CATEGORY_INDEX[b.category],
    )[0]!;
  }

  private entry(incident: Incident, state: 'ACTIVE' | 'CLOSED', t: number, why: EventKind): InsightEntry {
    const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
    const primary = this.primary(incident);
    const verdict = state === 'CLOSED' ? primary.peak : primary.last;
    const latency = primary.category === 'LATENCY';
    const metric = latency
      ? {
          Name: verdict.quantile ?? 'p95',
          Observed: verdict.observed,
          ExpectedLow: verdict.expectedLow,
          ExpectedHigh: verdict.expectedHigh,
          Unit: 'Seconds' as const,
        }
      : {
          Name: `${primary.category.toLowerCase()}_rate`,
          Observed: 100 * verdict.observed,
          ExpectedLow: 100 * verdict.expectedLow,
          ExpectedHigh: 100 * verdict.expectedHigh,
          Unit: 'Percent' as const,
        };
    const what = latency
      ? `${verdict.quantile ?? 'p95'} ${(verdict.observed * 1000).toFixed(0)} ms against an expected at most ${(verdict.expectedHigh * 1000).toFixed(0)} ms`
      : `${primary.category.toLowerCase()} rate ${(100 * verdict.observed).toFixed(1)}% against an expected at most ${(100 * verdict.expectedHigh).toFixed(2)}%`;
    const services = this.rankedServices(incident);
    const others = services.filter((s) => s !== incident.root);
    const named = others
      .slice(0, EVENT_SERVICES_MAX.summary)
      .map((s) => this.label(s))
      .join(', ');
    const more = others.length - EVENT_SERVICES_MAX.summary;
    const also = others.length ? `; also anomalous: ${named}${more > 0 ? ` and ${more} more` : ''}` : '';
    const root = this.label(incident.root);
    const summary = `${root}: ${what}${also}`;
    const impact = (m: Member) => ({
      FaultCount: m.failures,
      OkCount: Math.max(0, m.requests - m.failures),
      TotalCount: m.requests,
    });
    // Client impact: the most-upstream anomalous service, where users meet the incident.
    const client =
      [...incident.members].sort(
        (a, b) =>
          this.reach(b.service).size - this.reach(a.service).size ||
          CATEGORY_INDEX[a.category] - CATEGORY_INDEX[b.category],
      )[0] ?? primary;
    const end = Math.max(...incident.members.map((m) => m.end ?? 0));
    const categories = INSIGHT_CATEGORIES.filter((c) =>
      incident.members.some((m) => m.service === incident.root && m.category === c),
    );
    const event = {
      opened: `Insight opened: ${summary}`,
      root: `Root cause is now ${root}: ${summary}`,
      spread: `Insight spread: ${summary}`,
      impact: `Impact changed: ${summary}`,
      closed: incident.members.some((m) => m.service === incident.root && m.accepted !== undefined)
        ? `Insight closed: ${root}'s ${categories.map((c) => (c === 'LATENCY' ? 'latency' : `${c.toLowerCase()} rate`)).join(' and ')} held at a new level for ${(this.lifecycle.newNormalAfterBuckets * BUCKET_SECONDS) / 3600} hours, now taken as its normal`
        : `Insight closed: ${root} back within its expected ${categories.map((c) => c.toLowerCase()).join(' and ')}`,
    }[why];
    const result: InsightEntry = {
      Source: this.options.source ?? INSIGHT_SOURCE,
      DetailType: INSIGHT_DETAIL_TYPE,
      Time: iso(t),
      Detail: {
        InsightId: incident.id,
        State: state,
        Categories: categories,
        Summary: summary,
        StartTime: iso(incident.start),
        ...(state === 'CLOSED' && { EndTime: iso(end) }),
        // An edge's insight is rooted at the service its calls go to (the Summary names the caller).
        RootCauseServiceId: { Name: this.serviceOf(incident.root) },
        ClientRequestImpactStatistics: impact(client),
        RootCauseServiceRequestImpactStatistics: impact(primary),
        TopAnomalousServices: [...new Set(services.map((series) => this.serviceOf(series)))]
          .slice(0, 1 + EVENT_SERVICES_MAX.top)
          .map((name) => ({ ServiceId: { Name: name } })),
        Event: { EventTime: iso(t), Summary: event },
        Metric: metric,
        SampleTraceIds: [],
      },
    };
    KINDS.set(result, why);
    const edge = this.edgeSeries ? edgeOfSeries(incident.root) : undefined;
    if (edge) ROOT_EDGES.set(result, edge);
    return result;
  }

  /** The root first, then the other anomalous services from downstream to upstream. */
  private rankedServices(incident: Incident): string[] {
    const others = [...new Set(incident.members.map((m) => m.service))].filter((s) => s !== incident.root);
    others.sort((a, b) => this.reach(a).size - this.reach(b).size || (a < b ? -1 : 1));
    return [incident.root, ...others];
  }

  /** Everything the detector remembers, as JSON-safe data for `_state/`. */
  state(): DetectorState {
    return { ...this.stateHeader(), services: Object.fromEntries(this.serviceStates()) };
  }

  /** The state without its services (see {@link serviceStates}): a saved state's first line. */
  stateHeader(): DetectorStateHeader {
    return {
      version: 2,
      next: this.next,
      historyBuckets: this.historyBuckets,
      incidents: structuredClone(this.incidents),
      edges: [...this.downstream].flatMap(([caller, callees]) =>
        [...callees].map((c) => [caller, c] as [string, string]),
      ),
    };
  }

  /**
   * Each service's history, one at a time: a large fleet's state is written a service at a time rather
   * than built whole (bench/detect-state.ts).
   */
  *serviceStates(): Generator<ServiceState> {
    for (const [name, history] of this.services) yield [name, history.serialize()];
  }

  /**
   * A detector restored from a state's header and its services, read one at a time (see
   * {@link serviceStates}); the same as `new Detector(settings, state)` for the whole state.
   */
  static fromState(
    settings: DetectorSettings,
    header: DetectorStateHeader,
    services: Iterable<ServiceState>,
  ): Detector {
    const detector = new Detector(settings);
    detector.restore(header, services);
    return detector;
  }

  /** A new, empty history for `service`, judged from the next bucket on, after those known already. */
  private addService(service: string): ServiceHistory {
    const history = new ServiceHistory(
      this.historyBuckets,
      this.fleet,
      this.noise,
      this.rateDelay,
      this.detector.latencyWindowBuckets,
    );
    this.services.set(service, history);
    this.order.push(service);
    this.histories.push(history);
    // An edge series sits on the graph between its caller and its callee: downstream of the caller, so the
    // caller's echo of it joins its insight, and upstream of the callee, so the callee failing as a whole
    // is the root of an insight its edges join.
    const edge = this.edgeSeries ? edgeOfSeries(service) : undefined;
    if (edge)
      this.addEdges([
        { caller: edge.caller, callee: service },
        { caller: service, callee: edge.callee },
      ]);
    return history;
  }

  /** The service a series is of: its own name, or an edge series' callee. */
  private serviceOf(series: string): string {
    return (this.edgeSeries && edgeOfSeries(series)?.callee) || series;
  }

  /** How a series is named in a Summary: a service's name, or `calls from A to B` for an edge's. */
  private label(series: string): string {
    const edge = this.edgeSeries ? edgeOfSeries(series) : undefined;
    return edge ? `calls from ${edge.caller} to ${edge.callee}` : series;
  }

  private restore(state: DetectorStateHeader, services: Iterable<ServiceState>): void {
    if (state.version !== 1 && state.version !== 2)
      throw new DetectorStateError(`unknown detector state version ${String(state.version)}`);
    if (state.historyBuckets !== this.historyBuckets)
      throw new DetectorStateError(
        `the state keeps ${state.historyBuckets} buckets of history, this detector ${this.historyBuckets}: start afresh or keep historyDays`,
      );
    this.next = state.next;
    for (const [name, data] of services) this.addService(name).load(name, data);
    this.incidents = structuredClone(state.incidents);
    this.addEdges(state.edges.map(([caller, callee]) => ({ caller, callee })));
  }
}

/**
 * Whether a downstream anomaly of category `down` can cause an upstream one of category `up`: failures
 * propagate as failures and as latency (retries, timeouts); latency propagates as latency only.
 */
function explains(down: InsightCategory, up: InsightCategory): boolean {
  return up === 'LATENCY' || down !== 'LATENCY';
}

/**
 * −log10 of the standard normal upper tail at z (Abramowitz & Stegun 7.1.26, error < 1.5e-7): the rate
 * score of a bucket the screen passed as normal, for the anomaly-score metric only.
 */
function normalTailScore(z: number): number {
  // At or below the expected count scores 0, as rateScore does.
  if (!(z > 0)) return 0;
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  // −log10(erfc(x) / 2) with erfc = t·poly(t)·e^(−x²), its exponential taken out of the logarithm.
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return x * x * Math.LOG10E - Math.log10(poly / 2);
}

/** The verdict as the insight reports it: anomalous (as decided), with the unrelaxed expected band. */
function anomalous(verdict: Verdict): Verdict {
  return { ...verdict, state: 'anomalous' };
}

function failures(b: Bucket | undefined, c: number): number {
  if (!b) return 0;
  return c === 0 ? b.faults : c === 1 ? b.errors : b.throttles;
}

/** Stable across replays and restarts: the same incident always has the same id. */
function insightId(service: string, category: string, start: number): string {
  return hexDigest('sha256', `${service}\u0000${category}\u0000${start}`).slice(0, 32);
}

/**
 * Replays the detector over [from, to) bucket by bucket, exactly as scheduled runs would (buckets before
 * `from` warm the baselines), and returns the insight events in time order. Pure and deterministic: the
 * same buckets and edges give the same events and insight ids.
 */
export function detectInsights(buckets: readonly Bucket[], options: DetectOptions): InsightEntry[] {
  const detector = new Detector(options);
  if (options.edges) detector.addEdges(options.edges);
  return replay(detector, buckets, options.from, options.to);
}

/**
 * Advances `detector` over every bucket from its next one (or the first in `buckets`) to `to`, emitting
 * from `from` on. Returns the events. `onBucket` sees each emitting bucket right after it is judged, with
 * `detector.scores` computed for it (they are not computed without `onBucket`).
 */
export function replay(
  detector: Detector,
  buckets: readonly Bucket[],
  from: number,
  to: number,
  onBucket?: (t: number, buckets: readonly Bucket[]) => void,
): InsightEntry[] {
  const byTime = new Map<number, Bucket[]>();
  let first = Number.POSITIVE_INFINITY;
  for (const b of buckets) {
    const list = byTime.get(b.bucket) ?? [];
    list.push(b);
    byTime.set(b.bucket, list);
    if (b.bucket < first) first = b.bucket;
  }
  const start = detector.nextBucket ?? Math.floor(first / BUCKET_SECONDS) * BUCKET_SECONDS;
  const events: InsightEntry[] = [];
  if (!Number.isFinite(start)) return events;
  for (let t = start; t < to; t += BUCKET_SECONDS) {
    const at = byTime.get(t) ?? [];
    // Scores only for the buckets someone sees them for.
    events.push(...detector.advance(t, at, t >= from, onBucket !== undefined && t >= from));
    if (t >= from) onBucket?.(t, at);
  }
  return events;
}
