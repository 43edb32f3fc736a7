import { describe, expect, it } from 'vitest';
import { medianInPlace } from '../../../lib/insights/detectors.js';
import { LATENCY_NORMAL, NORMAL, P95, STRIDE, TIME } from '../../../lib/insights/ring.js';
import { RecentWindows, SeasonalWindows } from '../../../lib/insights/seasonal.js';
import { Random } from '../../../lib/local/simulator/random.js';

const PER_DAY = 288;

/** A ring as the detector keeps it: `size` slots, written bucket by bucket. */
function ring(size: number) {
  return { size, cells: new Float32Array(size * STRIDE) };
}

function write(r: ReturnType<typeof ring>, index: number, value: number, normal: boolean) {
  const at = (index % r.size) * STRIDE;
  r.cells[at + TIME] = index;
  r.cells[at + P95] = value;
  r.cells[at + NORMAL] = normal ? LATENCY_NORMAL | 7 : 7;
}

/** What the ring holds at `point` as a baseline point: its value when it is there, normal, with a value. */
function usable(r: ReturnType<typeof ring>, point: number): number | undefined {
  const at = (point % r.size) * STRIDE;
  const value = r.cells[at + P95]!;
  const ok = r.cells[at + TIME] === point && (r.cells[at + NORMAL]! & LATENCY_NORMAL) !== 0;
  return ok && !Number.isNaN(value) ? value : undefined;
}

/** Median and MAD the detector's way: quickselect over the points, then over their absolute deviations. */
function reference(points: number[]) {
  const values = Float64Array.from(points);
  const median = medianInPlace(values, points.length);
  const deviations = Float64Array.from(points, (x) => Math.abs(x - median));
  return { median, mad: medianInPlace(deviations, points.length) };
}

/** The seasonal baseline of bucket `index` gathered as the detector's latencyBaseline gathers it. */
function seasonalPoints(r: ReturnType<typeof ring>, index: number, width: number) {
  const points: number[] = [];
  let days = 0;
  for (let d = 1; d * PER_DAY <= r.size; d++) {
    let found = false;
    for (let j = -width; j <= width; j++) {
      const value = usable(r, index - d * PER_DAY + j);
      if (value === undefined) continue;
      points.push(value);
      found = true;
    }
    if (found) days++;
  }
  return { points, days };
}

function recentPoints(r: ReturnType<typeof ring>, index: number, capacity: number) {
  const points: number[] = [];
  for (let i = 1; i < r.size && points.length < capacity; i++) {
    const value = usable(r, index - i);
    if (value !== undefined) points.push(value);
  }
  return points;
}

/**
 * Drives windows as the detector does, bucket by bucket for a few services: each bucket is judged (the
 * window brought to it, some buckets skipped as a service without a p95 is) and then recorded (written to
 * the ring and handed over). Values are heavy-tailed with ties, NaNs (no p95) and anomalous (not normal)
 * buckets; every judged bucket is compared with the gathered reference.
 */
function drive(seed: number, sizeDays: number, width: number, buckets: number, growAfter = Infinity) {
  const random = new Random(seed);
  const size = Math.round(sizeDays * PER_DAY);
  const days = Math.floor(size / PER_DAY);
  const seasonal = new SeasonalWindows(PER_DAY, days, width, P95);
  const recent = new RecentWindows(36, P95);
  // The last service is sparse (a p95 in 2% of its buckets): its recent window reaches the ring's end.
  const service = (missing: number) => ({
    missing,
    ring: ring(size),
    seasonal: seasonal.allocate(),
    recent: recent.allocate(),
  });
  const services = [0.05, 0.05, 0.98].map(service);
  const start = 5_000_000 + Math.floor(random.next() * PER_DAY);
  let compared = 0;
  for (let index = start; index < start + buckets; index++) {
    // A service numbered past the first room (16) joins: the arrays are laid out anew, keeping what the
    // others' windows hold and wait for.
    if (index - start === growAfter) {
      for (let i = 0; i < 40; i++) {
        seasonal.allocate();
        recent.allocate();
      }
      services.push(service(0.05));
    }
    for (const s of services) {
      // Judged: most buckets; a day without judging some slot forces a rebuild from the ring.
      if (random.next() < 0.97) {
        const n = seasonal.compute(s.seasonal, index, s.ring.cells, s.ring.size);
        const expected = seasonalPoints(s.ring, index, width);
        expect(n).toBe(expected.points.length);
        if (n > 0) {
          expect(seasonal.dayCount()).toBe(expected.days);
          const { median, mad } = reference(expected.points);
          expect(seasonal.median()).toBe(median);
          expect(seasonal.mad(median)).toBe(mad);
        }
        if (random.next() < 0.5) {
          const m = recent.compute(s.recent, index, s.ring.cells, s.ring.size);
          const points = recentPoints(s.ring, index, 36);
          expect(m).toBe(points.length);
          if (m > 0) {
            const { median, mad } = reference(points);
            expect(recent.median()).toBe(median);
            expect(recent.mad(median)).toBe(mad);
          }
        } else if (random.next() < 0.1) recent.release(s.recent);
        compared++;
      }
      // Recorded, as the detector records every service at every bucket (a service without a bucket, or
      // without a p95, as NaN). Coarse values make ties; a heavy tail.
      const roll = random.next();
      const value =
        roll < s.missing
          ? Number.NaN
          : Math.round((roll < 0.9 ? random.next() : 1 / random.next()) * 50) / 100;
      const normal = random.next() < 0.9;
      write(s.ring, index, value, normal);
      const f32 = s.ring.cells[(index % size) * STRIDE + P95]!;
      if (normal && f32 === f32) seasonal.note(s.seasonal, index, f32);
      recent.note(s.recent, index, f32, normal);
    }
  }
  return compared;
}

describe('SeasonalWindows and RecentWindows', () => {
  it('give exactly the points, median and MAD the detector gathers, bucket after bucket (randomized)', () => {
    // 9 days: the windows fill, then slide day by day, with points leaving the ring.
    expect(drive(1, 7, 1, 9 * PER_DAY)).toBeGreaterThan(7000);
  });

  it('agree for a history of a fractional number of days and a wider time of day (randomized)', () => {
    // A 4.5-day ring: a window's oldest day leaves by the ring, not by the day count.
    expect(drive(2, 4.5, 2, 7 * PER_DAY)).toBeGreaterThan(5000);
    expect(drive(3, 3, 0, 5 * PER_DAY)).toBeGreaterThan(3000);
  });

  it('agree for a history longer than 31 days, whose days no 32-bit mask could count (randomized)', () => {
    expect(drive(5, 33, 1, 34 * PER_DAY)).toBeGreaterThan(25_000);
  });

  it('grow past their first room without losing what the windows hold or wait for (randomized)', () => {
    expect(drive(4, 3, 1, 5 * PER_DAY, 3 * PER_DAY + 100)).toBeGreaterThan(3000);
  });

  it('refuse a window of no day, or wider than a day, naming its size', () => {
    expect(() => new SeasonalWindows(PER_DAY, 0, 1, P95)).toThrow(/0 days ± 1 buckets/);
    expect(() => new SeasonalWindows(PER_DAY, 7, 144, P95)).toThrow(/7 days ± 144 buckets/);
    expect(() => new RecentWindows(0, P95)).toThrow(/0 points/);
  });
});
