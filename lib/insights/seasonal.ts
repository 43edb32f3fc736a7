import { LATENCY_NORMAL, NORMAL, STRIDE, TIME } from './ring.js';

/**
 * The latency noise model's baselines kept sorted, so their median and MAD cost a few steps a bucket.
 *
 * The noise model needs the median and MAD of a bucket's p95 baseline at every bucket (every z-score feeds
 * its moving average), where the band's screens skip them for almost all. Gathered from the rings and
 * selected each time, that was 80% of a replay with the model on (1,000 services × 14 days: 13–15 s
 * against 1.1–1.6 s for the band, bench/README.md): 21 points a day apart in memory, or 36 recent ones,
 * and two quickselects. A baseline changes little from one use to the next, so here each is kept sorted
 * with the bucket each point came from, brought forward by inserting the new points and dropping the
 * ones that left; the median is read off and the MAD found by merging the two sides of the median.
 * Exactly the points and the arithmetic of the detector's `latencyBaseline` and `latencyBand` (a
 * randomized test compares), so the same numbers, not an approximation.
 *
 * The windows of every service sit in a few typed arrays in the order the detector walks its services, so
 * judging a bucket across the fleet reads memory in order; new points are handed over as each bucket is
 * recorded (its ring slot is then in the cache), not read back from the ring a day later. A window that
 * missed a step (the first use, a restored state, a bucket the service did not have) is rebuilt from the
 * ring. Nothing here is saved: the ring is the state.
 */

/**
 * Blocks of up to `capacity` pairs [value, bucket index], float32 as the ring: {@link insert} keeps a block
 * sorted by value (a window), {@link push} appends (the points waiting to join one).
 */
class SortedBlocks {
  pairs: Float32Array;
  counts: Int32Array;

  constructor(
    readonly capacity: number,
    blocks: number,
  ) {
    this.pairs = new Float32Array(blocks * capacity * 2);
    this.counts = new Int32Array(blocks);
  }

  /** These blocks, and empty ones after them up to `blocks` in all. */
  grown(blocks: number): SortedBlocks {
    const grown = new SortedBlocks(this.capacity, blocks);
    grown.pairs.set(this.pairs);
    grown.counts.set(this.counts);
    return grown;
  }

  /** Appends a point, dropping the block's oldest when it is full. */
  push(block: number, value: number, point: number): void {
    if (this.counts[block] === this.capacity) this.removeOldest(block);
    const at = (block * this.capacity + this.counts[block]!) * 2;
    this.pairs[at] = value;
    this.pairs[at + 1] = point;
    this.counts[block]!++;
  }

  /** Inserts a point in its sorted place (the caller keeps within capacity). */
  insert(block: number, value: number, point: number): void {
    const pairs = this.pairs;
    const start = block * this.capacity * 2;
    let i = start + this.counts[block]! * 2;
    // From the end: equal values keep arrival order, which no statistic here depends on.
    while (i > start && pairs[i - 2]! > value) {
      pairs[i] = pairs[i - 2]!;
      pairs[i + 1] = pairs[i - 1]!;
      i -= 2;
    }
    pairs[i] = value;
    pairs[i + 1] = point;
    this.counts[block]!++;
  }

  /** Drops the block's points from buckets before `low`, keeping the rest in order. */
  expire(block: number, low: number): void {
    const pairs = this.pairs;
    const start = block * this.capacity * 2;
    const end = start + this.counts[block]! * 2;
    let to = start;
    for (let from = start; from < end; from += 2) {
      const point = pairs[from + 1]!;
      if (point < low) continue;
      pairs[to] = pairs[from]!;
      pairs[to + 1] = point;
      to += 2;
    }
    this.counts[block] = (to - start) / 2;
  }

  /**
   * How many days the block's points come from: distinct round((index − point) / perDay), each marked in
   * `marks` (one cell a day, left cleared).
   */
  days(block: number, index: number, perDay: number, marks: Uint8Array): number {
    const pairs = this.pairs;
    const start = block * this.capacity * 2;
    const end = start + this.counts[block]! * 2;
    let days = 0;
    for (let i = start; i < end; i += 2) {
      const d = Math.round((index - pairs[i + 1]!) / perDay);
      if (marks[d] === 0) days++;
      marks[d] = 1;
    }
    marks.fill(0);
    return days;
  }

  /** Removes the block's point from the earliest bucket. */
  removeOldest(block: number): void {
    const pairs = this.pairs;
    const start = block * this.capacity * 2;
    const end = start + this.counts[block]! * 2;
    let oldest = start;
    for (let i = start + 2; i < end; i += 2) if (pairs[i + 1]! < pairs[oldest + 1]!) oldest = i;
    pairs.copyWithin(oldest, oldest + 2, end);
    this.counts[block]!--;
  }

  /** The median of the block's points (NaN for none), as `medianInPlace` gives it. */
  median(block: number): number {
    const n = this.counts[block]!;
    if (n === 0) return Number.NaN;
    const start = block * this.capacity * 2;
    const upper = this.pairs[start + 2 * (n >> 1)]!;
    return n % 2 === 1 ? upper : (this.pairs[start + 2 * ((n >> 1) - 1)]! + upper) / 2;
  }

  /**
   * The MAD of the block's points (the median of absolute deviations from `median`, their median;
   * unscaled), as `medianInPlace` over |x − median| gives it.
   */
  mad(block: number, median: number): number {
    const n = this.counts[block]!;
    const pairs = this.pairs;
    const start = block * this.capacity * 2;
    const k = n >> 1;
    // Deviations fall left of k and rise from k on (both sides of the median): merged, the k-th smallest
    // (with the one before it for an even count) is the MAD.
    let left = k - 1;
    let right = k;
    let previous = 0;
    let current = 0;
    for (let taken = 0; taken <= k; taken++) {
      previous = current;
      const fromLeft = left >= 0 ? median - pairs[start + 2 * left]! : Number.POSITIVE_INFINITY;
      const fromRight = right < n ? pairs[start + 2 * right]! - median : Number.POSITIVE_INFINITY;
      if (fromLeft <= fromRight) {
        current = fromLeft;
        left--;
      } else {
        current = fromRight;
        right++;
      }
    }
    return n % 2 === 1 ? current : (previous + current) / 2;
  }
}

/**
 * A baseline window brought up to date for one bucket: its points, and their median and MAD on demand
 * (the noise model needs the MAD only for a bucket above the median).
 */
export interface LatencyWindow {
  /** Points in the window brought up to date last. */
  readonly count: number;
  median(): number;
  mad(median: number): number;
}

/** `marks` (bucket indexes, −1 for none), and −1s after them up to `room` in all. */
function grownMarks(marks: Float64Array, room: number): Float64Array {
  const grown = new Float64Array(room).fill(-1);
  grown.set(marks);
  return grown;
}

/** Whether the ring (`cells`, `size` slots) holds bucket `point` judged normal with a value in `field`. */
function usable(cells: Float32Array, size: number, point: number, field: number): boolean {
  const at = (point % size) * STRIDE;
  const value = cells[at + field]!;
  return cells[at + TIME] === point && (cells[at + NORMAL]! & LATENCY_NORMAL) !== 0 && value === value;
}

/** One time-of-day slot's windows, service after service (see {@link SeasonalWindows}). */
class SlotWindows {
  room = 0;
  sorted: SortedBlocks;
  /**
   * Points handed over as their buckets were recorded, not yet in their windows: a point joins a slot's
   * window the next day. Per service up to 3·width + 1 pairs: the 2·width + 1 of the day before and the
   * `width` after the slot's last use.
   */
  pending: SortedBlocks;
  /** The bucket index each service's window was last brought to, −1 for never. */
  at = new Float64Array(0);

  constructor(capacity: number, width: number) {
    this.sorted = new SortedBlocks(capacity, 0);
    this.pending = new SortedBlocks(3 * width + 1, 0);
  }

  /** Makes room for service `service`. */
  ensure(service: number): void {
    if (service < this.room) return;
    let room = Math.max(16, this.room);
    while (room <= service) room *= 2;
    Object.assign(this, {
      sorted: this.sorted.grown(room),
      pending: this.pending.grown(room),
      at: grownMarks(this.at, room),
      room,
    });
  }
}

/**
 * Every service's seasonal baselines: per time-of-day slot, the normal points at the same time (±
 * `width` buckets) on each of the last `days` days the ring holds. A slot's windows sit together, service
 * after service, so judging one bucket across the fleet walks memory in order; a slot's arrays are made at
 * its first use, so a scheduled run (a bucket or two) makes a few of the 288, not all (for 1,000 services,
 * all of them take 61 MiB, measured).
 */
export class SeasonalWindows implements LatencyWindow {
  private services = 0;
  private readonly slots: (SlotWindows | undefined)[];
  private readonly capacity: number;
  /** Scratch for {@link dayCount}: a cell a day. */
  private readonly marks: Uint8Array;
  /** The slot, service and bucket {@link compute} brought up to date last. */
  private current: SlotWindows | undefined;
  private block = 0;
  private index = 0;
  count = 0;

  /**
   * @param perDay buckets a day (the slots)
   * @param days days of a baseline (as the detector's loop: d·perDay within the ring)
   * @param width buckets either side of the time of day (`seasonalWidthBuckets`)
   * @param field the ring cell whose values these are (P95 or P50)
   */
  constructor(
    readonly perDay: number,
    readonly days: number,
    readonly width: number,
    readonly field: number,
  ) {
    if (days < 1 || 2 * width + 1 > perDay)
      throw new RangeError(`seasonal window of ${days} days ± ${width} buckets is out of range`);
    this.marks = new Uint8Array(days + 2);
    this.capacity = days * (2 * width + 1);
    this.slots = new Array<SlotWindows | undefined>(perDay).fill(undefined);
  }

  /** A number for one more service. */
  allocate(): number {
    return this.services++;
  }

  private slot(slot: number, service: number): SlotWindows {
    const windows = (this.slots[slot] ??= new SlotWindows(this.capacity, this.width));
    windows.ensure(service);
    return windows;
  }

  /**
   * Hands over service `service`'s value at bucket `point`, recorded normal: it joins the windows of the
   * slots whose baselines it belongs to (point + j for |j| ≤ width) when they are next used.
   */
  note(service: number, point: number, value: number): void {
    const { perDay, width } = this;
    for (let j = -width; j <= width; j++) {
      // Full only when the slot was not used for a day: its next use rebuilds it from the ring.
      this.slot((point + j + perDay) % perDay, service).pending.push(service, value, point);
    }
  }

  /**
   * Brings service `service`'s baseline of bucket `index` up to date, from the points handed over or
   * rebuilt from its ring (`cells`, `size` slots), and returns its number of points; {@link median},
   * {@link mad} and {@link dayCount} then describe it.
   */
  compute(service: number, index: number, cells: Float32Array, size: number): number {
    const { perDay, width } = this;
    const windows = this.slot(index % perDay, service);
    const { sorted, pending, at } = windows;
    const block = service;
    this.current = windows;
    this.block = block;
    this.index = index;
    if (at[block] !== index) {
      // Points the ring no longer holds, or older than the window, leave.
      const low = Math.max(index - size, index - this.days * perDay - width);
      // The points of the day before, handed over (later ones wait for tomorrow).
      const due = index - perDay + width;
      const incremental = at[block] === index - perDay;
      if (incremental) sorted.expire(block, low);
      else {
        sorted.counts[block] = 0;
        for (let d = 1; d <= this.days; d++)
          for (let j = -width; j <= width; j++) {
            const point = index - d * perDay + j;
            if (point >= low && usable(cells, size, point, this.field))
              sorted.insert(block, cells[(point % size) * STRIDE + this.field]!, point);
          }
      }
      const start = block * pending.capacity * 2;
      const end = start + pending.counts[block]! * 2;
      let keep = start;
      for (let i = start; i < end; i += 2) {
        const point = pending.pairs[i + 1]!;
        if (point > due) {
          pending.pairs[keep] = pending.pairs[i]!;
          pending.pairs[keep + 1] = point;
          keep += 2;
        } else if (incremental && point >= low) sorted.insert(block, pending.pairs[i]!, point);
      }
      pending.counts[block] = (keep - start) / 2;
      at[block] = index;
    }
    this.count = sorted.counts[block]!;
    return this.count;
  }

  /** How many days the window's points come from. */
  dayCount(): number {
    return this.current!.sorted.days(this.block, this.index, this.perDay, this.marks);
  }

  median(): number {
    return this.current!.sorted.median(this.block);
  }

  mad(median: number): number {
    return this.current!.sorted.mad(this.block, median);
  }
}

/**
 * Every service's recent baseline: its last `capacity` normal points in the ring (the detector's
 * `recentBuckets`), which judges until the seasonal one qualifies. Kept up to date only while in use, from
 * the points handed over as buckets are recorded; rebuilt from the ring when taken up again.
 */
export class RecentWindows implements LatencyWindow {
  private room = 0;
  private services = 0;
  private sorted: SortedBlocks;
  /** The last bucket each service's window holds (it is live while the buckets come one by one), −1 when not kept. */
  private through = new Float64Array(0);
  /** The service {@link compute} brought up to date last. */
  private block = 0;
  count = 0;

  /**
   * @param capacity points a baseline holds (`recentBuckets`)
   * @param field the ring cell whose values these are (P95 or P50)
   */
  constructor(
    readonly capacity: number,
    readonly field: number,
  ) {
    if (capacity < 1) throw new RangeError(`a recent window of ${capacity} points is out of range`);
    this.sorted = new SortedBlocks(capacity, 0);
    this.grow(16);
  }

  /** Room for one more service: its number here. */
  allocate(): number {
    if (this.services === this.room) this.grow(this.room * 2);
    return this.services++;
  }

  private grow(room: number): void {
    Object.assign(this, { sorted: this.sorted.grown(room), through: grownMarks(this.through, room), room });
  }

  /** Stops keeping service `service`'s window (the seasonal baseline judges). */
  release(service: number): void {
    this.through[service] = -1;
  }

  /** Records service `service`'s bucket `point` (value NaN, or not normal, for none) into a live window. */
  note(service: number, point: number, value: number, normal: boolean): void {
    if (this.through[service] !== point - 1) {
      this.through[service] = -1;
      return;
    }
    this.through[service] = point;
    if (!normal || value !== value) return;
    if (this.sorted.counts[service] === this.capacity) this.sorted.removeOldest(service);
    this.sorted.insert(service, value, point);
  }

  /**
   * Brings service `service`'s recent baseline of bucket `index` up to date (rebuilt from its ring,
   * `cells` with `size` slots, unless live) and returns its number of points; {@link median} and
   * {@link mad} then describe it. The window stays live from here until {@link release} or a missed bucket.
   */
  compute(service: number, index: number, cells: Float32Array, size: number): number {
    const sorted = this.sorted;
    this.block = service;
    // As the detector's loop: buckets 1 to size − 1 back.
    const low = index - size + 1;
    if (this.through[service] === index - 1) sorted.expire(service, low);
    else {
      sorted.counts[service] = 0;
      for (let point = index - 1; point >= low && sorted.counts[service]! < this.capacity; point--)
        if (usable(cells, size, point, this.field))
          sorted.insert(service, cells[(point % size) * STRIDE + this.field]!, point);
      this.through[service] = index - 1;
    }
    this.count = sorted.counts[service]!;
    return this.count;
  }

  median(): number {
    return this.sorted.median(this.block);
  }

  mad(median: number): number {
    return this.sorted.mad(this.block, median);
  }
}
