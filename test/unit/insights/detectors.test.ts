import { describe, expect, it } from 'vitest';
import {
  baselineFor,
  betaBinomialUpperTail,
  binomialUpperTail,
  DETECTOR_DEFAULTS,
  latencyBin,
  latencyMedianVerdict,
  latencyWindowVerdict,
  latencyNoiseStep,
  latencyVerdict,
  logGamma,
  noiseCritical,
  noiseStateSize,
  requestsAbove,
  binomialScore,
  rateScore,
  rateScoreCap,
  rateVerdict,
} from '../../../lib/insights/detectors.js';
import { LatencyBinsError } from '../../../lib/insights/errors.js';
import { Random } from '../../../lib/local/simulator/random.js';
import { durations, healthy } from '../../helpers/buckets.js';

/** P(X ≥ k) by direct summation with log-factorials built by adding logs: slow, simple, independent. */
function naiveUpperTail(k: number, n: number, p: number): number {
  const logFactorial = [0];
  for (let i = 1; i <= n; i++) logFactorial.push(logFactorial[i - 1]! + Math.log(i));
  let sum = 0;
  for (let i = k; i <= n; i++)
    sum += Math.exp(
      logFactorial[n]! -
        logFactorial[i]! -
        logFactorial[n - i]! +
        i * Math.log(p) +
        (n - i) * Math.log(1 - p),
    );
  return sum;
}

describe('binomialUpperTail', () => {
  it('agrees with direct summation, including far in the tail', () => {
    for (const [k, n, p] of [
      [0, 20, 0.1],
      [3, 20, 0.1],
      [7, 50, 0.02],
      [12, 12, 0.5],
      [30, 1000, 0.002],
      [90, 20_000, 0.002],
    ] as const) {
      const expected = naiveUpperTail(k, n, p);
      expect(Math.abs(binomialUpperTail(k, n, p) - expected) / expected).toBeLessThan(1e-9);
    }
    // 30 failures in 1,000 requests at a 0.2% baseline (mean 2): about 4e-25, as Poisson(2) puts it.
    expect(binomialUpperTail(30, 1000, 0.002)).toBeGreaterThan(1e-25);
    expect(binomialUpperTail(30, 1000, 0.002)).toBeLessThan(1e-24);
    expect(logGamma(10)).toBeCloseTo(Math.log(362_880), 12);
  });
});

describe('logGamma', () => {
  it('is ln((n − 1)!) at whole numbers and ln Γ at half-integers, both sides of the Stirling seam at 10', () => {
    let logFactorial = 0; // ln((n − 1)!)
    for (let n = 1; n <= 5000; n++) {
      if (n > 1) logFactorial += Math.log(n - 1);
      expect(Math.abs(logGamma(n) - logFactorial)).toBeLessThan(1e-12 * Math.max(1, logFactorial));
    }
    // Γ(n + ½) = Γ(n − ½)·(n − ½), from Γ(½) = √π.
    let logHalf = 0.5 * Math.log(Math.PI); // ln Γ(n + ½)
    for (let n = 0; n <= 5000; n++) {
      if (n > 0) logHalf += Math.log(n - 0.5);
      expect(Math.abs(logGamma(n + 0.5) - logHalf)).toBeLessThan(1e-12 * Math.max(1, Math.abs(logHalf)));
    }
    // Continuous across the seam.
    expect(Math.abs(logGamma(10 - 1e-12) - logGamma(10))).toBeLessThan(1e-10);
  });
});

/**
 * P(X ≥ k) for the beta-binomial by its Pólya urn, independent of log-gammas: a draws' worth of failure
 * and b of success in the urn, each draw returned with one more of its kind; the distribution of failures
 * after n draws, built draw by draw.
 */
function urnUpperTail(k: number, n: number, a: number, b: number): number {
  let dist = [1];
  for (let draw = 0; draw < n; draw++) {
    const next = new Array<number>(draw + 2).fill(0);
    dist.forEach((probability, failures) => {
      const pFail = (a + failures) / (a + b + draw);
      next[failures + 1]! += probability * pFail;
      next[failures]! += probability * (1 - pFail);
    });
    dist = next;
  }
  return dist.slice(k).reduce((sum, v) => sum + v, 0);
}

describe('betaBinomialUpperTail', () => {
  it('agrees with the Pólya urn, including far in the tail', () => {
    for (const [k, n, a, b] of [
      [0, 20, 0.5, 99.5],
      [3, 20, 0.5, 99.5],
      [6, 90, 0.5, 260.5],
      [9, 24, 0.5, 259.5],
      [40, 400, 12.5, 400],
      [1, 1, 3, 7],
    ] as const) {
      const expected = urnUpperTail(k, n, a, b);
      expect(Math.abs(betaBinomialUpperTail(k, n, a, b) - expected) / expected).toBeLessThan(1e-9);
    }
  });

  it('is the binomial once the baseline is large, and gives no chance of failure to a rate known to be 0', () => {
    for (const [k, n, p] of [
      [7, 50, 0.02],
      [30, 1000, 0.002],
    ] as const) {
      const strength = 1e9;
      const tail = betaBinomialUpperTail(k, n, p * strength, (1 - p) * strength);
      expect(Math.abs(tail - binomialUpperTail(k, n, p)) / binomialUpperTail(k, n, p)).toBeLessThan(1e-3);
    }
    expect(betaBinomialUpperTail(1, 10, 0, 100)).toBe(0);
    expect(betaBinomialUpperTail(10, 10, 1, 0)).toBe(1);
  });

  it("is at least the binomial's tail where the detector screens with the binomial's bounds (randomized)", () => {
    // Where the baseline holds the bucket's requests (a + b ≥ n) the detector proves buckets normal by the
    // binomial at the predictive's mean: Ash's bound where k − 1 ≥ p(n − 1), and 1.5 standard deviations
    // (tail above 5%) nearer the mean. Valid only if these hold.
    const random = new Random(11);
    let far = 0;
    let near = 0;
    for (let trial = 0; trial < 20_000; trial++) {
      const n = 1 + Math.floor(random.next() * (random.next() < 0.5 ? 100 : 3000));
      const p = 10 ** (-5 + random.next() * 4.9);
      const strength = n * (1 + (random.next() < 0.3 ? 0 : 10 ** (random.next() * 5)));
      const a = p * strength;
      const b = strength - a;
      const mean = n * p;
      const sd = Math.sqrt(mean * (1 - p));
      const k = Math.ceil(mean) + Math.floor(random.next() * Math.min(n, 3 + 6 * sd));
      if (k > n || k <= mean) continue;
      const predictive = betaBinomialUpperTail(k, n, a, b);
      if (k <= mean + 1.5 * sd) {
        near++;
        expect(predictive).toBeGreaterThan(0.05);
      } else if (k - 1 >= p * (n - 1)) {
        far++;
        // (Relative 1e-6: the log-gammas of a baseline of 10⁹ requests are that precise.)
        expect(predictive).toBeGreaterThanOrEqual(binomialUpperTail(k, n, p) * (1 - 1e-6));
        if (k < n) expect(rateScoreCap(k, n, p)).toBeGreaterThanOrEqual(rateScore(k, n, a, b) - 1e-6);
      }
    }
    expect(far).toBeGreaterThan(5000);
    expect(near).toBeGreaterThan(2000);
  });

  it('can be below the binomial just above the mean when the baseline is short against the bucket', () => {
    // Why the detector computes such buckets exactly: Beta(0.5, 25.7) against 4,459 requests.
    const [k, n, a, b] = [86, 4459, 0.5, 25.726];
    expect(betaBinomialUpperTail(k, n, a, b)).toBeLessThan(binomialUpperTail(k, n, a / (a + b)));
  });
});

describe('rateScoreCap', () => {
  it('is never below the exact score, and close to it in the far tail (randomized)', () => {
    const random = new Random(3);
    let tight = 0;
    for (let trial = 0; trial < 20_000; trial++) {
      const n = 1 + Math.floor(random.next() * 5000);
      const p = 10 ** (-5 + random.next() * 4.7);
      const k = Math.min(n - 1, Math.ceil(n * p) + Math.floor(random.next() * Math.min(n, 50 + 10 * n * p)));
      if (!(k / n > p) || k >= n) continue;
      const exact = binomialScore(k, n, p);
      const cap = rateScoreCap(k, n, p);
      expect(cap).toBeGreaterThanOrEqual(exact - 1e-9);
      if (exact > 4 && exact < 250 && cap - exact < 1.5) tight++;
    }
    expect(tight).toBeGreaterThan(1000); // a useful bound, not merely a large one
  });

  it('gives no bound at or below the expected count, or when every request failed', () => {
    expect(rateScoreCap(1, 100, 0.02)).toBe(Number.POSITIVE_INFINITY);
    expect(rateScoreCap(10, 10, 0.01)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('rateVerdict', () => {
  const baseline = { requests: 100_000, failures: 200 }; // a 0.2% fault rate

  it('does not flag a quiet service for one or two failures', () => {
    expect(rateVerdict({ requests: 4, failures: 2 }, baseline).state).toBe('normal');
    expect(rateVerdict({ requests: 4, failures: 3 }, baseline).state).toBe('anomalous');
  });

  it('catches a small shift on a busy service that a fixed threshold would miss', () => {
    const busy = rateVerdict({ requests: 20_000, failures: 90 }, baseline); // 0.45%
    expect(busy.state).toBe('anomalous');
    expect(busy.expectedHigh).toBeLessThan(0.0035);
    expect(rateVerdict({ requests: 20_000, failures: 50 }, baseline).state).toBe('normal'); // 0.25%: noise
  });

  it('does not alert on a service with a clean history for a single failure', () => {
    expect(rateVerdict({ requests: 200, failures: 1 }, { requests: 50_000, failures: 0 }).state).toBe(
      'normal',
    );
  });

  it('knows how little a short baseline says: 6 errors in 90 requests after 0 in 161 is not an incident', () => {
    // A young service's quiet first hour (a demo week's payments, 2% errors in the day) and then its
    // morning. Taking the baseline's rate as known (the binomial at 0.5 / 261) puts the chance of 6 or more
    // at 3e-8; the rate after 161 clean requests may well be 2%, and the predictive says so.
    const young = { requests: 161, failures: 0 };
    const verdict = rateVerdict({ requests: 90, failures: 6 }, young, { rateAlpha: 1e-5 });
    expect(verdict.state).toBe('normal');
    expect(binomialUpperTail(6, 90, 0.5 / 261)).toBeLessThan(1e-7);
    // ... but the same service failing a third of its requests is one.
    expect(rateVerdict({ requests: 90, failures: 30 }, young, { rateAlpha: 1e-5 }).state).toBe('anomalous');
    // And with 100 times the history at the same rate, the band narrows to the binomial's.
    const long = rateVerdict(
      { requests: 90, failures: 6 },
      { requests: 16_100, failures: 0 },
      { rateAlpha: 1e-5 },
    );
    expect(long.state).toBe('anomalous');
  });

  it('keeps false alarms near its alpha on healthy traffic', () => {
    const random = new Random(3);
    let alarms = 0;
    const trials = 20_000;
    for (let i = 0; i < trials; i++) {
      const n = 50 + Math.floor(random.next() * 500);
      let k = 0;
      for (let j = 0; j < n; j++) if (random.next() < 0.01) k++;
      if (
        rateVerdict({ requests: n, failures: k }, { requests: 1_000_000, failures: 10_000 }).state ===
        'anomalous'
      )
        alarms++;
    }
    expect(alarms / trials).toBeLessThan(DETECTOR_DEFAULTS.rateAlpha * 5);
  });
});

describe('latencyVerdict', () => {
  const steady = Array.from({ length: 48 }, (_, i) => 0.2 + 0.01 * Math.sin(i));

  it('warms up before judging', () => {
    expect(latencyVerdict({ value: 5, requests: 100 }, steady.slice(0, 5)).state).toBe('warming-up');
  });

  it('flags a slowdown and not ordinary wobble', () => {
    expect(latencyVerdict({ value: 0.21, requests: 100 }, steady).state).toBe('normal');
    const slow = latencyVerdict({ value: 0.45, requests: 100 }, steady);
    expect(slow.state).toBe('anomalous');
    expect(slow.score).toBeGreaterThan(DETECTOR_DEFAULTS.latencyZ);
  });

  it('needs a practical increase as well as a statistical one on a very steady series', () => {
    const flat = Array.from({ length: 48 }, () => 0.1);
    const smaller = { latencyMinIncrease: 0.25 };
    expect(latencyVerdict({ value: 0.115, requests: 100 }, flat, smaller).state).toBe('normal');
    expect(latencyVerdict({ value: 0.13, requests: 100 }, flat, smaller).state).toBe('anomalous');
    // The default asks for a doubling of the baseline median.
    expect(latencyVerdict({ value: 0.19, requests: 100 }, flat).state).toBe('normal');
    expect(latencyVerdict({ value: 0.21, requests: 100 }, flat).state).toBe('anomalous');
  });

  it('widens the band for small buckets when a sample margin is set', () => {
    const flat = Array.from({ length: 48 }, () => 0.1);
    const margin = { latencySampleMargin: 1 };
    expect(latencyVerdict({ value: 0.21, requests: 16 }, flat).state).toBe('anomalous');
    expect(latencyVerdict({ value: 0.21, requests: 16 }, flat, margin)).toMatchObject({
      state: 'normal',
      expectedHigh: 0.2 * 1.25,
    });
    expect(latencyVerdict({ value: 0.21, requests: 10_000 }, flat, margin).state).toBe('anomalous');
  });

  it('gives no verdict on a bucket with too few requests', () => {
    expect(latencyVerdict({ value: 9, requests: 3 }, steady).state).toBe('insufficient-data');
  });

  it('is robust to outliers in its baseline', () => {
    const spiky = [...steady.slice(0, 40), 5, 6, 7];
    expect(latencyVerdict({ value: 0.45, requests: 100 }, spiky).state).toBe('anomalous');
    expect(latencyVerdict({ value: 0.3, requests: 100 }, spiky).state).toBe('normal');
  });
});

describe('latency histogram', () => {
  it('bins two to an octave of milliseconds, everything under 1 ms in bin 0', () => {
    expect([0.0005, 0.001, 0.0015, 0.002, 0.0029, 0.004, 1, 60].map(latencyBin)).toEqual([
      0, 0, 1, 2, 3, 4, 19, 31,
    ]);
  });

  it('counts the requests above a threshold: exactly at bin edges, in proportion inside a bin', () => {
    // bin 2 = [2, 2.83) ms, bin 4 = [4, 5.66) ms
    const bins = '{"0":3,"2":4,"4":5}';
    expect(requestsAbove(bins, 0.004)).toEqual({ above: 5, total: 12 });
    expect(requestsAbove(bins, 0.002)).toEqual({ above: 9, total: 12 });
    expect(requestsAbove(bins, 0.0001)).toEqual({ above: 12, total: 12 });
    expect(requestsAbove(bins, 1000)).toEqual({ above: 0, total: 12 });
    expect(requestsAbove(bins, 2 ** 1.25 / 1000).above).toBeCloseTo(5 + 2, 9); // halfway through bin 2
    expect(requestsAbove('{}', 0.1)).toEqual({ above: 0, total: 0 });
  });

  it('agrees with counting the durations themselves at every bin edge (randomized)', () => {
    const random = new Random(11);
    for (let trial = 0; trial < 200; trial++) {
      const ds = Array.from(
        { length: 1 + Math.floor(random.next() * 60) },
        () => random.logNormal(40, 1) / 1000,
      );
      const { latencyBins } = healthy(ds);
      for (let j = 0; j < 30; j++) {
        const edge = 2 ** (j / 2) / 1000;
        // A bin holds [edge, next edge): at an edge, "above" counts from that bin up, so ≥ edge.
        const atOrAbove = ds.filter((d) => latencyBin(d) >= j).length;
        expect(requestsAbove(latencyBins!, edge).above).toBeCloseTo(atOrAbove, 9);
      }
    }
  });

  it('names the bad histogram it was given', () => {
    for (const bad of ['not json', '[1,2]', '{"a":1}', '{"3":-1}', 'null']) {
      expect(() => requestsAbove(bad, 0.1)).toThrow(LatencyBinsError);
      expect(() => requestsAbove(bad, 0.1)).toThrow(/latency_bins/);
    }
  });
});

describe('latencyVerdict with a histogram', () => {
  const flat = Array.from({ length: 48 }, () => 0.2);

  it('needs the slow requests to be more than chance allows, not one outlier making the p95', () => {
    const normal = durations(17, 0.08, 0.2);
    const outlier = healthy([...normal.slice(0, -1), 0.9]);
    const observation = { value: outlier.p95!, requests: 17 };
    expect(latencyVerdict(observation, flat).state).toBe('anomalous'); // the band alone
    expect(latencyVerdict({ ...observation, bins: outlier.latencyBins }, flat).state).toBe('normal');
    const many = healthy([...normal.slice(0, 9), ...Array.from({ length: 8 }, () => 0.9)]);
    expect(latencyVerdict({ value: many.p95!, requests: 17, bins: many.latencyBins }, flat).state).toBe(
      'anomalous',
    );
  });
});

describe('latencyWindowVerdict', () => {
  // Buckets of ten requests against a baseline median of 0.1 s: the line (×1.5) is at 0.15 s.
  const quiet = healthy(durations(10, 0.1, 0.25));
  const slow = healthy(durations(10, 0.25, 0.6));
  const window = (slowBuckets: number) => [
    ...Array.from({ length: slowBuckets }, () => slow.latencyBins!),
    ...Array.from({ length: 6 - slowBuckets }, () => quiet.latencyBins!),
  ];

  it('finds a shift that six thin buckets bear out together and none alone', () => {
    expect(latencyWindowVerdict(slow.p50!, window(6), 0.1).state).toBe('anomalous');
    expect(latencyWindowVerdict(slow.p50!, window(4), 0.1).state).toBe('anomalous');
    // One bucket's ten requests are too few to say anything at the window's alpha.
    expect(latencyWindowVerdict(slow.p50!, [slow.latencyBins!], 0.1).state).toBe('insufficient-data');
    expect(latencyWindowVerdict(slow.p50!, window(6).slice(0, 2), 0.1).state).toBe('normal');
  });

  it('needs more than half of the pool above the line, so a slow bucket or two among normal ones is not a shift', () => {
    const two = latencyWindowVerdict(slow.p50!, window(2), 0.1);
    expect(two.state).toBe('normal');
    expect(two.expectedHigh).toBeCloseTo(0.15, 12);
  });

  it('judges only a bucket whose own median is above the line', () => {
    expect(latencyWindowVerdict(quiet.p50!, window(6), 0.1).state).toBe('normal');
  });
});

describe('latencyMedianVerdict', () => {
  const medians = Array.from({ length: 48 }, () => 0.1);

  it('flags a bucket shifted as a whole past the median increase, borne out by its count', () => {
    const shifted = healthy(durations(16, 0.18, 0.4));
    const verdict = latencyMedianVerdict(
      { p50: shifted.p50!, requests: 16, bins: shifted.latencyBins! },
      medians,
    );
    expect(verdict).toMatchObject({ state: 'anomalous', quantile: 'p50' });
    expect(verdict.expectedHigh).toBeCloseTo(0.15, 12);
    expect(verdict.score).toBeGreaterThan(2);
  });

  it('is normal when the median rose by less than the increase, or too few requests are slow', () => {
    const mild = healthy(durations(16, 0.14, 0.3));
    expect(
      latencyMedianVerdict({ p50: mild.p50!, requests: 16, bins: mild.latencyBins! }, medians).state,
    ).toBe('normal');
    // A p50 of 0.18 claimed with a histogram where only half the requests are above 0.1 s.
    const half = healthy(durations(16, 0.1, 0.3));
    expect(latencyMedianVerdict({ p50: 0.18, requests: 16, bins: half.latencyBins! }, medians).state).toBe(
      'normal',
    );
  });

  it('warms up, and gives no verdict on a bucket with too few requests', () => {
    const shifted = healthy(durations(16, 0.18, 0.4));
    const observation = { p50: shifted.p50!, requests: 16, bins: shifted.latencyBins! };
    expect(latencyMedianVerdict(observation, medians.slice(0, 3)).state).toBe('warming-up');
    expect(latencyMedianVerdict({ ...observation, requests: 5 }, medians).state).toBe('insufficient-data');
  });
});

describe('baselineFor', () => {
  const bucket = 300;
  const t0 = 1_800_000_000;
  // A daily cycle: slow at this time of day (1.0), fast otherwise (0.1).
  const history = Array.from({ length: 5 * 288 }, (_, i) => {
    const time = t0 - (i + 1) * bucket;
    const offset = (((t0 - time) % 86_400) + 86_400) % 86_400;
    return { time, value: offset <= bucket || offset >= 86_400 - bucket ? 1.0 : 0.1 };
  });

  it('compares with the same time of day once there are days enough', () => {
    const points = baselineFor(history, t0, bucket);
    expect(points.length).toBeGreaterThanOrEqual(9);
    expect(points.every((v) => v === 1.0)).toBe(true);
    expect(latencyVerdict({ value: 1.05, requests: 100 }, points).state).toBe('normal');
  });

  it('uses the recent buckets before that', () => {
    // Three days give 9 same-time points, fewer than the warm-up needs: the recent buckets judge.
    expect(baselineFor(history.slice(0, 3 * 288), t0, bucket)).toHaveLength(DETECTOR_DEFAULTS.recentBuckets);
    const points = baselineFor(history.slice(0, 288), t0, bucket);
    expect(points).toHaveLength(DETECTOR_DEFAULTS.recentBuckets);
  });
});

describe('latencyNoiseStep', () => {
  // A memory longer than these tests, unless a test sets its own.
  const o = { latencyNoiseWindow: 4, latencyNoiseLearningPoints: 20, latencyNoiseHistory: 1e9 };

  it('learns before it judges, then stands each moving average against the earlier ones (randomized)', () => {
    const random = new Random(3);
    // Two series' states side by side in one array, as the detector keeps them: neither touches the other.
    const size = noiseStateSize(o);
    const state = new Float64Array(2 * size);
    const zs: number[] = [];
    const averages: number[] = [];
    for (let i = 0; i < 500; i++) {
      const z = random.next() < 0.05 ? 5 + 5 * random.next() : Math.abs(random.logNormal(0, 0.5) - 1);
      zs.push(z);
      const standing = latencyNoiseStep(state, size, z, o);
      const recent = zs.slice(-o.latencyNoiseWindow);
      const average = recent.reduce((a, b) => a + b, 0) / recent.length;
      if (i < o.latencyNoiseLearningPoints) expect(standing).toBeNaN();
      else {
        const mean = averages.reduce((a, b) => a + b, 0) / averages.length;
        const sd = Math.sqrt(averages.reduce((a, b) => a + (b - mean) ** 2, 0) / averages.length);
        expect(standing).toBeCloseTo((average - mean) / sd, 9);
      }
      averages.push(average);
    }
    expect(Array.from(state.subarray(0, size)).every((v) => v === 0)).toBe(true);
  });

  it('weighs the earlier averages equally up to latencyNoiseHistory, then forgets them exponentially (randomized)', () => {
    const h = { ...o, latencyNoiseHistory: 60 };
    const random = new Random(4);
    const state = new Float64Array(noiseStateSize(h));
    const zs: number[] = [];
    const averages: number[] = [];
    for (let i = 0; i < 400; i++) {
      const z = random.next() < 0.1 ? 6 * random.next() : random.next();
      zs.push(z);
      const standing = latencyNoiseStep(state, 0, z, h);
      const recent = zs.slice(-h.latencyNoiseWindow);
      const average = recent.reduce((a, b) => a + b, 0) / recent.length;
      if (i >= h.latencyNoiseLearningPoints) {
        // Weight 1 each for the first `history`, then every later average scales the earlier ones by (H−1)/H.
        const weights = averages.map((_, j) => {
          const later = Math.max(0, i - Math.max(j + 1, h.latencyNoiseHistory));
          return ((h.latencyNoiseHistory - 1) / h.latencyNoiseHistory) ** later;
        });
        const total = weights.reduce((a, b) => a + b, 0);
        const mean = averages.reduce((a, b, j) => a + weights[j]! * b, 0) / total;
        const squares = averages.reduce((a, b, j) => a + weights[j]! * b * b, 0) / total;
        expect(standing).toBeCloseTo((average - mean) / Math.sqrt(squares - mean * mean), 9);
      }
      averages.push(average);
    }
  });

  it('learns a service steady again after a long noisy spell, where a model that never forgets stays deaf', () => {
    const run = (latencyNoiseHistory: number) => {
      const h = { ...o, latencyNoiseHistory };
      const state = new Float64Array(noiseStateSize(h));
      for (let i = 0; i < 2000; i++) latencyNoiseStep(state, 0, i % 8 < 2 ? 6 : 0.5, h);
      for (let i = 0; i < 1000; i++) latencyNoiseStep(state, 0, 0.5, h);
      let standing = 0;
      for (let i = 0; i < 3; i++) standing = latencyNoiseStep(state, 0, 6, h);
      return standing;
    };
    expect(run(200)).toBeGreaterThan(noiseCritical(1e-5));
    expect(run(1e9)).toBeLessThan(noiseCritical(1e-5));
  });

  it('sets its critical standing at the normal tail of its alpha', () => {
    expect(noiseCritical(1e-5)).toBeCloseTo(4.265, 1);
    expect(noiseCritical(0.05)).toBeCloseTo(1.645, 2);
  });

  it('a series that is always noisy stands out less than a steady one for the same surprise', () => {
    const steady = new Float64Array(noiseStateSize(o));
    const noisy = new Float64Array(noiseStateSize(o));
    for (let i = 0; i < 200; i++) {
      latencyNoiseStep(steady, 0, 0.5, o);
      latencyNoiseStep(noisy, 0, i % 8 < 2 ? 6 : 0.5, o);
    }
    for (let i = 0; i < 3; i++) {
      const s = latencyNoiseStep(steady, 0, 6, o);
      const n = latencyNoiseStep(noisy, 0, 6, o);
      expect(s).toBeGreaterThan(noiseCritical(1e-5));
      expect(n).toBeLessThan(noiseCritical(1e-5));
    }
  });
});
