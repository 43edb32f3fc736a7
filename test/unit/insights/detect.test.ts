import { describe, expect, it } from 'vitest';
import {
  BUCKET_SECONDS,
  type Bucket,
  Detector,
  type DetectorSettings,
  type DetectorState,
  detectInsights,
  EVENT_SERVICES_MAX,
  replay,
  rootEdge,
} from '../../../lib/insights/detect.js';
import { batchEntries, entrySize } from '../../../lib/insights/eventbridge-publisher.js';
import {
  baselineFor,
  binomialUpperTail,
  DETECTOR_DEFAULTS,
  latencyVerdict,
  rateVerdict,
} from '../../../lib/insights/detectors.js';
import { initialSeriesState, step } from '../../../lib/insights/lifecycle.js';
import { DetectorStateError } from '../../../lib/insights/errors.js';
import { Random } from '../../../lib/local/simulator/random.js';
import { at, durations, healthy, series, T0 } from '../../helpers/buckets.js';
import { INSIGHT_DETAIL_TYPE, type InsightEntry } from '../../../lib/insights/events.js';

/** The latency thresholds an open series is held to (holdFactor), for the pure rule the tests state. */
const held = {
  latencyZ: DETECTOR_DEFAULTS.latencyZ * DETECTOR_DEFAULTS.holdFactor,
  latencyMinIncrease: DETECTOR_DEFAULTS.latencyMinIncrease * DETECTOR_DEFAULTS.holdFactor,
};

/**
 * The latency rule stated plainly (baselineFor and latencyVerdict over every earlier normal point, the
 * lifecycle, and with `ownRate` each series' own anomaly rate over every earlier bucket): the times at
 * which it opens an insight on a series of p95s (200 requests a bucket), and how many openings it held back.
 */
function pureOpenings(p95s: number[], ownRate: boolean): { expected: string[]; held: number } {
  const o = DETECTOR_DEFAULTS;
  const normal: { time: number; value: number }[] = [];
  const past: { anomalous: boolean; open: boolean }[] = [];
  let state = initialSeriesState();
  const expected: string[] = [];
  let heldBack = 0;
  p95s.forEach((value, i) => {
    const t = at(i);
    const baseline = baselineFor(normal, t, BUCKET_SECONDS);
    const anomalous =
      latencyVerdict({ value, requests: 200 }, baseline, state.open ? held : {}).state === 'anomalous';
    if (!anomalous) normal.push({ time: t, value });
    let next = step(state, anomalous);
    if (next.transition === 'opened' && ownRate) {
      let [k, n, anomalies, judged] = [1, 1, 0, 0];
      past.forEach((p, j) => {
        if (p.open) return;
        if (j > i - o.ownRateWindowBuckets) [k, n] = [k + Number(p.anomalous), n + 1];
        else [anomalies, judged] = [anomalies + Number(p.anomalous), judged + 1];
      });
      const rate = (anomalies + o.ownRatePriorAnomalies) / (judged + o.ownRatePriorBuckets);
      if (!(binomialUpperTail(k, n, rate) < o.ownRateAlpha)) {
        next = { state: { ...next.state, open: false }, transition: 'none' };
        heldBack++;
      }
    }
    if (next.transition === 'opened') expected.push(new Date(t * 1000).toISOString());
    past.push({ anomalous, open: state.open });
    state = next.state;
  });
  return { expected, held: heldBack };
}

/**
 * Three days of a service whose p95 (0.2 s) jumps to 2.25× for two buckets in every twenty, then a real
 * slowdown to 3× for twenty buckets from bucket 800.
 */
const OFTEN_SLOW = (() => {
  const n = 864;
  const buckets = series('search', n, (i) =>
    i >= 800 && i < 820 ? { p95: 0.6 } : i % 20 < 2 ? { p95: 0.45 } : { p95: 0.2 + 0.002 * Math.sin(i) },
  );
  return { n, buckets };
})();

/**
 * The rate rule stated plainly for a busy series (never the low-traffic window, so no bucket's joining the
 * baseline is deferred): rateVerdict against every earlier bucket judged normal, after the warm-up, at the
 * held alpha while open, through the lifecycle. The times at which it opens a FAULT insight.
 */
function pureRateOpenings(rows: readonly { requests: number; faults: number }[]): string[] {
  const o = DETECTOR_DEFAULTS;
  const normal: boolean[] = [];
  let state = initialSeriesState();
  const expected: string[] = [];
  rows.forEach((row, i) => {
    const baseline = { requests: 0, failures: 0 };
    for (let j = 0; j < i; j++)
      if (normal[j])
        [baseline.requests, baseline.failures] = [
          baseline.requests + rows[j]!.requests,
          baseline.failures + rows[j]!.faults,
        ];
    const options = state.open ? { rateAlpha: o.rateAlpha ** o.holdFactor } : {};
    const anomalous =
      i >= o.rateWarmupBuckets &&
      rateVerdict({ requests: row.requests, failures: row.faults }, baseline, options).state === 'anomalous';
    normal.push(!anomalous);
    const next = step(state, anomalous);
    if (next.transition === 'opened') expected.push(new Date(at(i) * 1000).toISOString());
    state = next.state;
  });
  return expected;
}

/** Four requests a bucket, one or two failing from bucket 40 to 59: never rateMinFailures in one bucket. */
const QUIET_FAILING = series('reports', 80, (i) => ({
  requests: 4,
  errors: 0,
  faults: i >= 40 && i < 60 ? 1 + (i % 2) : 0,
  p95: null,
}));

/** A service whose median latency shifts from bucket 30 to 39, its p95 hidden in its usual noise. */
const MEDIAN_SHIFT = series('payments', 60, (i) =>
  i >= 30 && i < 40 ? healthy(durations(18, 0.18, 0.4)) : healthy(durations(18, 0.1, i % 2 ? 0.25 : 0.45)),
);

/**
 * A replay from `from` to `to` cut at `cut`: run to the cut, its state saved as JSON (and looked at or edited
 * by `edit`), resumed from it.
 */
function resumedAt(
  buckets: Bucket[],
  from: number,
  to: number,
  cut: number,
  edit: (saved: DetectorState) => void = () => {},
  settings: DetectorSettings = {},
) {
  const first = new Detector(settings);
  const before = replay(first, buckets, from, cut);
  const saved = JSON.parse(JSON.stringify(first.state())) as DetectorState;
  edit(saved);
  return [...before, ...replay(new Detector(settings, saved), buckets, cut, to)];
}

/** The values of a state's base64 float32 column. */
const float32s = (base64: string) => [
  ...new Float32Array(new Uint8Array(Buffer.from(base64, 'base64')).buffer),
];

const openedEvents = (events: ReturnType<typeof detectInsights>) =>
  events.filter((e) => e.Detail.Event.Summary.startsWith('Insight opened'));

describe('detectInsights', () => {
  it('opens a fault insight after two anomalous buckets and closes it after three normal ones', () => {
    const buckets = series('checkout', 60, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {}));
    const events = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(events.map((e) => [e.Detail.State, e.Detail.Categories[0], e.Time])).toEqual([
      ['ACTIVE', 'FAULT', new Date(at(31) * 1000).toISOString()],
      ['CLOSED', 'FAULT', new Date(at(38) * 1000).toISOString()],
    ]);
    const [active, closed] = events;
    expect(active!.DetailType).toBe(INSIGHT_DETAIL_TYPE);
    expect(active!.Detail).toMatchObject({
      StartTime: new Date(at(30) * 1000).toISOString(),
      RootCauseServiceId: { Name: 'checkout' },
      Metric: { Name: 'fault_rate', Unit: 'Percent' },
    });
    expect(active!.Detail.Metric.Observed).toBeCloseTo(30, 6);
    expect(closed!.Detail).toMatchObject({
      InsightId: active!.Detail.InsightId,
      EndTime: new Date(at(36) * 1000).toISOString(),
    });
  });

  it('ignores a one-bucket blip and a traffic surge with healthy rates', () => {
    const buckets = series('checkout', 60, (i) =>
      i === 30 ? { p95: 2.0 } : i >= 40 && i < 46 ? { requests: 1000, errors: 10, faults: 1 } : {},
    );
    expect(detectInsights(buckets, { from: at(12), to: at(60) })).toEqual([]);
  });

  it('opens a latency insight on a sustained slowdown, and replays to the same insight ids', () => {
    const buckets = series('payments', 60, (i) => (i >= 30 && i < 40 ? { p95: 0.6 } : {}));
    const first = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(first.map((e) => [e.Detail.State, e.Detail.Categories[0]])).toEqual([
      ['ACTIVE', 'LATENCY'],
      ['CLOSED', 'LATENCY'],
    ]);
    expect(detectInsights(buckets, { from: at(12), to: at(60) }).map((e) => e.Detail.InsightId)).toEqual(
      first.map((e) => e.Detail.InsightId),
    );
  });

  it('does not take one slow outlier in a quiet bucket for a slowdown, when the bucket has its histogram', () => {
    const normal = durations(17, 0.08, 0.2);
    // One request of 17 takes 0.9 s: the p95 (nearly the maximum in so few) quadruples.
    const outlier = healthy([...normal.slice(0, -1), 0.9]);
    const buckets = series('cards', 60, (i) => (i >= 30 && i < 36 ? outlier : healthy(normal)));
    expect(outlier.p95).toBe(0.9);
    expect(detectInsights(buckets, { from: at(12), to: at(60) })).toEqual([]);
    // Without the histogram only the p95 band judges, and it alerts.
    const bare = buckets.map((b) => ({ ...b, latencyBins: null }));
    expect(detectInsights(bare, { from: at(12), to: at(60) }).map((e) => e.Detail.State)).toEqual([
      'ACTIVE',
      'CLOSED',
    ]);
    // Eight of seventeen as slow is a slowdown, histogram or not.
    const slow = healthy([...normal.slice(0, 9), ...Array.from({ length: 8 }, () => 0.9)]);
    const real = series('cards', 60, (i) => (i >= 30 && i < 36 ? slow : healthy(normal)));
    expect(detectInsights(real, { from: at(12), to: at(60) }).map((e) => e.Detail.State)).toEqual([
      'ACTIVE',
      'CLOSED',
    ]);
  });

  it('finds a thin service shifted as a whole by its median, where its noisy p95 stays inside the band', () => {
    // Quiet-hour buckets of 18 requests whose p95 swings between 0.25 and 0.45 s: a wide p95 band.
    const quiet = (i: number) => healthy(durations(18, 0.1, i % 2 ? 0.25 : 0.45));
    const shifted = healthy(durations(18, 0.18, 0.4)); // everything 1.8× slower, p95 still inside
    const buckets = series('payments', 60, (i) => (i >= 30 && i < 40 ? shifted : quiet(i)));
    const events = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(events.map((e) => [e.Detail.State, e.Detail.Metric.Name])).toEqual([
      ['ACTIVE', 'p50'],
      ['CLOSED', 'p50'],
    ]);
    expect(events[0]!.Detail.Metric.Observed).toBeCloseTo(shifted.p50!, 9);
    expect(events[0]!.Detail.Event.Summary).toContain('p50');
    // The p95 band alone (no histogram, so no median test) sees nothing.
    const bare = buckets.map((b) => ({ ...b, latencyBins: null }));
    expect(detectInsights(bare, { from: at(12), to: at(60) })).toEqual([]);
  });

  it('finds a slowdown of buckets too thin to judge alone by pooling the last half hour of histograms', () => {
    // Ten requests a bucket, as the demo's worker gets at night: under latencyMinRequests, no verdict alone.
    const quiet = (i: number) => healthy(durations(10, 0.1, i % 2 ? 0.2 : 0.3));
    const slow = healthy(durations(10, 0.25, 0.6));
    const buckets = series('worker', 70, (i) => (i >= 30 && i < 50 ? slow : quiet(i)));
    const range = { from: at(12), to: at(70) };
    const events = detectInsights(buckets, range);
    expect(events.map((e) => [e.Detail.State, e.Detail.Metric.Name])).toEqual([
      ['ACTIVE', 'p50'],
      ['CLOSED', 'p50'],
    ]);
    // More than half of the pooled six buckets' requests must be above the line: at the fourth slow bucket
    // (33), a window spanning four slow buckets, which opens at once (two anomalous windows in a row: 34).
    expect(Date.parse(events[0]!.Time) / 1000).toBe(at(33));
    expect(events[0]!.Detail.Metric.Observed).toBeCloseTo(slow.p50!, 9);
    // Without the window nothing is seen; and one slow bucket, or two, is not a slowdown.
    expect(detectInsights(buckets, { ...range, detector: { latencyWindowBuckets: 1 } })).toEqual([]);
    const blips = series('worker', 70, (i) => (i === 30 || i === 31 || i === 45 ? slow : quiet(i)));
    expect(detectInsights(blips, range)).toEqual([]);
    // Cut anywhere, a run resumed from its saved state keeps the histograms the window pools.
    for (const cut of [31, 32, 33, 34]) expect(resumedAt(buckets, at(12), at(70), at(cut))).toEqual(events);
  });

  it('opens on a latency window spanning slow buckets even when every other bucket is only mildly slow', () => {
    // The demo's payments at night (seed 1, week ending 2026-11-23 08:28 UTC): thin buckets whose p50 is
    // above the line one bucket and under it the next. Each slow one makes the window anomalous; each mild
    // one ended the run at one, and the slowdown was missed while its mild buckets raised the baseline.
    const quiet = (i: number) => healthy(durations(10, 0.1, i % 2 ? 0.2 : 0.3));
    const slow = healthy(durations(14, 0.25, 0.6));
    const mild = healthy(durations(14, 0.14, 0.35));
    const shape = (after: (i: number) => ReturnType<typeof healthy>) => (i: number) =>
      i >= 30 && i < 60 ? (i % 2 === 0 || i >= 56 ? slow : mild) : i >= 60 ? after(i) : quiet(i);
    const range = { from: at(12), to: at(90) };
    const events = detectInsights(series('payments', 90, shape(quiet)), range);
    expect(events.map((e) => [e.Detail.State, Date.parse(e.Time) / 1000])).toEqual([
      ['ACTIVE', at(32)],
      ['CLOSED', at(62)],
    ]);
    // After it closes (three thin normal buckets), one slow bucket: the window is anomalous again, by the
    // insight's own slow buckets, which do not count towards a new span.
    const thinQuiet = healthy(durations(2, 0.1, 0.12));
    const thinSlow = healthy(durations(2, 0.25, 0.3));
    const after = (i: number) => (i < 64 ? thinQuiet : i === 64 ? thinSlow : quiet(i));
    expect(detectInsights(series('payments', 90, shape(after)), range)).toEqual(events);
  });

  it('keeps a latency insight open through buckets too thin to judge, instead of splitting it in two', () => {
    const normal = healthy(durations(40, 0.05, 0.12));
    const slow = healthy(durations(40, 0.2, 0.5));
    const thin = healthy(durations(5, 0.2, 0.5));
    const buckets = series('worker', 70, (i) =>
      i >= 30 && i < 50 ? (i >= 36 && i < 42 ? thin : slow) : normal,
    );
    const events = detectInsights(buckets, { from: at(12), to: at(70) });
    expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
    expect(events.map((e) => e.Detail.State).at(-1)).toBe('CLOSED');
    expect(events.at(-1)!.Detail.EndTime).toBe(new Date(at(50) * 1000).toISOString());
  });

  it('makes one insight of an incident whose faults echo upstream, rooted at the farthest-downstream service', () => {
    const edges = [
      { caller: 'frontend', callee: 'checkout' },
      { caller: 'checkout', callee: 'payments' },
      { caller: 'frontend', callee: 'search' },
    ];
    const failing = (i: number) => (i >= 30 && i < 36 ? { faults: 60 } : {});
    // The echo opens a bucket before the cause: the root must move down when the cause opens.
    const buckets = [
      ...series('frontend', 60, (i) => (i >= 29 && i < 36 ? { faults: 60 } : {})),
      ...series('checkout', 60, failing),
      ...series('payments', 60, failing),
      ...series('search', 60),
    ];
    const events = detectInsights(buckets, { from: at(12), to: at(60), edges });
    expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
    expect(
      events.map((e) => [
        e.Detail.State,
        e.Detail.RootCauseServiceId.Name,
        e.Detail.Event.Summary.split(':')[0],
      ]),
    ).toEqual([
      ['ACTIVE', 'frontend', 'Insight opened'],
      ['ACTIVE', 'payments', 'Root cause is now payments'],
      ['CLOSED', 'payments', 'Insight closed'],
    ]);
    const closed = events.at(-1)!.Detail;
    expect(closed.TopAnomalousServices.map((s) => s.ServiceId.Name)).toEqual([
      'payments',
      'checkout',
      'frontend',
    ]);
    expect(closed.Categories).toEqual(['FAULT']);
    expect(closed.ClientRequestImpactStatistics.TotalCount).toBeGreaterThan(0);
  });

  describe('edge series (edgeSeries=1)', () => {
    const edges = [
      { caller: 'storefront', callee: 'orders-db' },
      { caller: 'reports', callee: 'orders-db' },
    ];
    const ON = { detector: { edgeSeries: 1 } };
    const incident = (i: number) => i >= 30 && i < 36;
    /**
     * orders-db answers 2,000 calls a bucket, 1,980 from storefront and 20 from reports, 4 faults among them
     * (storefront's). From bucket 30 to 35 either reports' calls fail 6 in 20 (`edge`), or every caller's
     * fail 5% (`whole`).
     */
    const fleet = (failing: 'edge' | 'whole') => {
      const reportsFaults = (i: number) => (incident(i) ? (failing === 'edge' ? 6 : 1) : 0);
      const storefrontFaults = (i: number) => (incident(i) && failing === 'whole' ? 99 : 4);
      const quiet = { errors: 0, throttles: 0 };
      const services = [
        ...series('storefront', 60, () => ({ requests: 1_000, ...quiet, faults: 0 })),
        ...series('reports', 60, () => ({ requests: 10, ...quiet, faults: 0 })),
        ...series('orders-db', 60, (i) => ({
          requests: 2_000,
          ...quiet,
          faults: storefrontFaults(i) + reportsFaults(i),
        })),
      ];
      const edgeSeries = [
        ...series('storefront -> orders-db', 60, (i) => ({
          requests: 1_980,
          ...quiet,
          faults: storefrontFaults(i),
        })),
        ...series('reports -> orders-db', 60, (i) => ({ requests: 20, ...quiet, faults: reportsFaults(i) })),
      ];
      return { services, edgeSeries };
    };

    it("finds one caller's failing calls, too few to move the callee's rate, rooted at the callee", () => {
      const { services, edgeSeries } = fleet('edge');
      // By services alone, orders-db's 10 faults in 2,000 are within its expected band: nothing.
      expect(detectInsights(services, { from: at(12), to: at(60), edges })).toEqual([]);
      const events = detectInsights([...services, ...edgeSeries], { from: at(12), to: at(60), edges, ...ON });
      expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
      expect(events.map((e) => [e.Detail.State, e.Detail.RootCauseServiceId.Name])).toEqual([
        ['ACTIVE', 'orders-db'],
        ['CLOSED', 'orders-db'],
      ]);
      const opened = events[0]!;
      expect(opened.Detail.Summary).toMatch(/^calls from reports to orders-db: fault rate 30\.0%/);
      expect(opened.Detail.Categories).toEqual(['FAULT']);
      expect(opened.Detail.TopAnomalousServices).toEqual([{ ServiceId: { Name: 'orders-db' } }]);
      // Its impact: the caller's calls in the bucket it opened on, not the service's 2,000.
      expect(opened.Detail.RootCauseServiceRequestImpactStatistics).toEqual({
        FaultCount: 6,
        OkCount: 14,
        TotalCount: 20,
      });
      expect(rootEdge(opened)).toEqual({ caller: 'reports', callee: 'orders-db' });
    });

    it('roots an incident at the callee failing as a whole, its edges joining the same insight', () => {
      const { services, edgeSeries } = fleet('whole');
      const events = detectInsights([...services, ...edgeSeries], { from: at(12), to: at(60), edges, ...ON });
      expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
      const closed = events.at(-1)!;
      expect(closed.Detail.State).toBe('CLOSED');
      expect(closed.Detail.RootCauseServiceId.Name).toBe('orders-db');
      expect(rootEdge(closed)).toBeUndefined();
      expect(closed.Detail.Summary).toMatch(
        /^orders-db: fault rate 5\.0% .*; also anomalous: calls from reports to orders-db, calls from storefront to orders-db$/,
      );
      expect(closed.Detail.TopAnomalousServices).toEqual([{ ServiceId: { Name: 'orders-db' } }]);
    });

    it('takes series named as edges for services while edgeSeries is off', () => {
      const { services, edgeSeries } = fleet('edge');
      const events = detectInsights([...services, ...edgeSeries], { from: at(12), to: at(60), edges });
      expect(events[0]!.Detail.RootCauseServiceId.Name).toBe('reports -> orders-db');
      expect(rootEdge(events[0]!)).toBeUndefined();
    });
  });

  describe('a series that stops getting requests while its insight is open', () => {
    // checkout fails from bucket 30, and from bucket 34 gets no request at all (retired mid-incident).
    const gone = series('checkout', 34, (i) => (i >= 30 ? { faults: 60 } : {}));
    const lifecycle = { closeSilentBuckets: 10 };

    it('closes after closeSilentBuckets buckets without a request, ending where the requests stopped', () => {
      const events = detectInsights(gone, { from: at(12), to: at(80), lifecycle });
      expect(events.map((e) => [e.Detail.State, e.Time])).toEqual([
        ['ACTIVE', new Date(at(31) * 1000).toISOString()],
        ['CLOSED', new Date(at(43) * 1000).toISOString()],
      ]);
      expect(events[1]!.Detail.EndTime).toBe(new Date(at(34) * 1000).toISOString());
      // With the default (a day) it is still open 46 buckets on, as a quiet service's would be.
      expect(detectInsights(gone, { from: at(12), to: at(80) }).map((e) => e.Detail.State)).toEqual([
        'ACTIVE',
      ]);
    });

    it('counts only silence in a row: a request between quiet buckets starts the count again', () => {
      const quietly = [
        ...gone,
        ...series('checkout', 50, (i) =>
          i === 40 ? { requests: 1, faults: 1 } : { requests: 0, errors: 0, faults: 0 },
        ).slice(34),
      ];
      const events = detectInsights(quietly, { from: at(12), to: at(80), lifecycle });
      expect(events.at(-1)!.Detail.EndTime).toBe(new Date(at(41) * 1000).toISOString());
    });

    it('resumed from its saved state in the silence, closes when one continuous run does', () => {
      const settings = { lifecycle };
      const continuous = replay(new Detector(settings), gone, at(12), at(80));
      const first = new Detector(settings);
      const before = replay(first, gone, at(12), at(38));
      const saved = JSON.parse(JSON.stringify(first.state())) as DetectorState;
      const after = replay(new Detector(settings, saved), gone, at(38), at(80));
      expect([...before, ...after]).toEqual(continuous);
      expect(continuous.at(-1)!.Detail.State).toBe('CLOSED');
    });
  });

  it("keeps an event of a fleet-wide incident far under EventBridge's 256 KB, naming the top services", () => {
    // 3,000 services with long names all call one database, which fails: one insight, 3,001 services.
    const name = (i: number) => `a-service-with-a-rather-long-name-of-its-own-${String(i).padStart(4, '0')}`;
    const failing = (i: number) => (i >= 30 && i < 36 ? { faults: 60 } : {});
    const services = Array.from({ length: 3000 }, (_, i) => name(i));
    const buckets = [series('database', 40, failing), ...services.map((s) => series(s, 40, failing))].flat();
    const edges = services.map((caller) => ({ caller, callee: 'database' }));
    const events = detectInsights(buckets, { from: at(12), to: at(40), edges });
    expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
    for (const event of events) {
      const entry = {
        Source: event.Source,
        DetailType: event.DetailType,
        Time: new Date(event.Time),
        Detail: JSON.stringify(event.Detail),
      };
      expect(entrySize(entry)).toBeLessThan(16 * 1024);
      expect(() => batchEntries([entry])).not.toThrow();
    }
    const opened = events[0]!.Detail;
    expect(opened.RootCauseServiceId.Name).toBe('database');
    const top = opened.TopAnomalousServices.map((s) => s.ServiceId.Name);
    expect(top).toHaveLength(1 + EVENT_SERVICES_MAX.top);
    expect(top[0]).toBe('database');
    expect(opened.Summary).toMatch(/; also anomalous: (a-service[^,]*, ){9}a-service[^,]* and 2990 more$/);
  });

  it('keeps unrelated incidents apart, and does not blame a downstream slowdown for upstream faults', () => {
    const edges = [
      { caller: 'checkout', callee: 'payments' },
      { caller: 'frontend', callee: 'search' },
    ];
    const buckets = [
      ...series('checkout', 60, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {})),
      ...series('payments', 60, (i) => (i >= 30 && i < 40 ? { p95: 1.5 } : {})),
      ...series('search', 60, (i) => (i >= 30 && i < 36 ? { errors: 80 } : {})),
    ];
    const opened = detectInsights(buckets, { from: at(12), to: at(60), edges }).filter(
      (e) => e.Detail.State === 'ACTIVE',
    );
    expect(opened.map((e) => [e.Detail.RootCauseServiceId.Name, e.Detail.Categories]).sort()).toEqual([
      ['checkout', ['FAULT']],
      ['payments', ['LATENCY']],
      ['search', ['ERROR']],
    ]);
  });

  it('publishes an update when the impact moves by the update ratio', () => {
    const buckets = series('checkout', 60, (i) =>
      i >= 30 && i < 34 ? { faults: 20 } : i >= 34 && i < 40 ? { faults: 120 } : {},
    );
    const events = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(events.map((e) => e.Detail.Event.Summary.split(':')[0])).toEqual([
      'Insight opened',
      'Impact changed',
      'Insight closed',
    ]);
    expect(events[1]!.Detail.Metric.Observed).toBeCloseTo(60, 6);
  });

  it("publishes no impact change for one bucket's swing, only for a move that lasts", () => {
    // 6% faults on a busy service whose normal is 1%: one bucket at 14% (more than 2× what was published)
    // is sampling noise or a blip; 15% held for buckets in a row is a new impact.
    const buckets = series('checkout', 80, (i) =>
      i >= 30 && i < 70
        ? { requests: 1000, faults: i === 40 ? 140 : i >= 50 ? 150 : 60 }
        : { requests: 1000 },
    );
    const events = detectInsights(buckets, { from: at(12), to: at(80) });
    expect(events.map((e) => [e.Time, e.Detail.Event.Summary.split(':')[0]])).toEqual([
      [new Date(at(31) * 1000).toISOString(), 'Insight opened'],
      [new Date(at(51) * 1000).toISOString(), 'Impact changed'],
      [new Date(at(72) * 1000).toISOString(), 'Insight closed'],
    ]);
    expect(events[1]!.Detail.Metric.Observed).toBeCloseTo(15, 6);
    // The run of moved verdicts is kept in the state: a run resumed between them publishes the same.
    for (const cut of [41, 50, 51, 52]) expect(resumedAt(buckets, at(12), at(80), at(cut))).toEqual(events);
  });

  it("compares a latency insight's p95 verdicts with its p95 and its median test's with its p50", () => {
    // Slow in the median throughout, and in the tail two buckets of four: the p95 test decides those, the
    // median test the others, two by two. A p50 of 0.25 s against a p95 of 0.8 s differs by more than the
    // update ratio; the impact does not change.
    const normal = healthy(durations(200, 0.1, 0.3));
    const tail = healthy(durations(200, 0.25, 0.8));
    const median = healthy(durations(200, 0.25, 0.3));
    const buckets = series('payments', 80, (i) =>
      i >= 30 && i < 60 ? (Math.floor(i / 2) % 2 ? tail : median) : normal,
    );
    const events = detectInsights(buckets, { from: at(12), to: at(80) });
    expect(events.map((e) => e.Detail.Event.Summary.split(':')[0])).toEqual([
      'Insight opened',
      'Insight closed',
    ]);
  });

  describe('a level held for newNormalAfterBuckets', () => {
    const lifecycle = { newNormalAfterBuckets: 24 }; // two hours, so the series stay short
    const range = { from: at(12), to: at(200) };
    const summaries = (events: InsightEntry[]) =>
      events.map((e) => [
        (Date.parse(e.Time) / 1000 - T0) / BUCKET_SECONDS,
        e.Detail.Event.Summary.split(':')[1],
      ]);
    // The p95 doubles at bucket 30 for good; at 150 it doubles again for ten buckets (an incident on top).
    const slower = series('payments', 200, (i) => ({
      p95: (i >= 30 ? 0.4 : 0.2) * (i >= 150 && i < 160 ? 2 : 1) + 0.01 * Math.sin(i),
    }));
    // The error rate goes from 1% to 5% at bucket 30 for good; at 150 to 20% for ten buckets.
    const failing = series('checkout', 200, (i) => ({
      requests: 1000,
      errors: i >= 150 && i < 160 ? 200 : i >= 30 ? 50 : 10,
    }));

    it.each([
      ['latency', slower, " payments's latency held at a new level for 2 hours, now taken as its normal"],
      [
        'error rate',
        failing,
        " checkout's error rate held at a new level for 2 hours, now taken as its normal",
      ],
    ])(
      'becomes the normal of its %s: the insight closes saying so, and one on top still opens',
      (_, buckets, text) => {
        const events = detectInsights(buckets, { ...range, lifecycle });
        const start = (Date.parse(events[0]!.Detail.StartTime) / 1000 - T0) / BUCKET_SECONDS;
        expect(start).toBeGreaterThanOrEqual(30);
        expect(summaries(events)).toEqual([
          [expect.any(Number), expect.any(String)],
          // Taken at the run's 24th bucket, judged normal from the next, closed closeAfter (3) later.
          [start + 23 + 3, text],
          // The incident on top (150), opened as soon as an insight opens.
          [expect.toSatisfy((i: number) => i >= 151 && i <= 153), expect.any(String)],
          [162, expect.stringContaining('back within its expected')],
        ]);
        expect(events.map((e) => e.Detail.State)).toEqual(['ACTIVE', 'CLOSED', 'ACTIVE', 'CLOSED']);
        // Never (0): the first insight stays open over the whole range, the second incident inside it.
        const never = detectInsights(buckets, { ...range, lifecycle: { newNormalAfterBuckets: 0 } });
        expect(never.map((e) => e.Detail.State)).not.toContain('CLOSED');
        // Resumed from its state on either side of the taking, and with the noise model (whose windows are
        // rebuilt from the ring), a run publishes the same.
        for (const cut of [52, 53, 54, 57])
          expect(resumedAt(buckets, range.from, range.to, at(cut), undefined, { lifecycle })).toEqual(events);
        const noise = { lifecycle, detector: { latencyNoiseModel: 1 } };
        const withNoise = detectInsights(buckets, { ...range, ...noise });
        expect(withNoise.map((e) => e.Detail.State)).toContain('CLOSED');
        for (const cut of [53, 54])
          expect(resumedAt(buckets, range.from, range.to, at(cut), undefined, noise)).toEqual(withNoise);
      },
    );
  });

  it('holds an insight open while its series hovers near the threshold (hysteresis)', () => {
    // Baseline 1% faults on a busy service. 8% opens it; 1.9% (p ≈ 0.007) holds it open, though 1.9%
    // alone opens nothing.
    const shape = (opening: boolean) => (i: number) => ({
      requests: 1000,
      errors: 0,
      faults: opening && i >= 30 && i < 32 ? 80 : i >= 32 && i < 50 ? 19 : 10,
    });
    const events = detectInsights(series('checkout', 80, shape(true)), { from: at(12), to: at(80) });
    expect(events.map((e) => [e.Detail.State, e.Time, e.Detail.Event.Summary.split(':')[0]])).toEqual([
      ['ACTIVE', new Date(at(31) * 1000).toISOString(), 'Insight opened'],
      // 8% → 1.9%: more than halved, in a second bucket in a row (openAfter), so published at the second.
      ['ACTIVE', new Date(at(33) * 1000).toISOString(), 'Impact changed'],
      ['CLOSED', new Date(at(52) * 1000).toISOString(), 'Insight closed'],
    ]);
    expect(detectInsights(series('checkout', 80, shape(false)), { from: at(12), to: at(80) })).toEqual([]);
  });

  it('catches a quiet service failing steadily by aggregating its buckets', () => {
    const buckets = QUIET_FAILING;
    const events = detectInsights(buckets, { from: at(12), to: at(80) });
    expect(new Set(events.map((e) => e.Detail.InsightId)).size).toBe(1);
    expect(events.map((e) => [e.Detail.State, e.Detail.Categories[0]])).toContainEqual(['CLOSED', 'FAULT']);
    expect(Date.parse(events[0]!.Time) / 1000).toBeLessThanOrEqual(at(44));
    expect(Date.parse(events.at(-1)!.Time) / 1000).toBeLessThanOrEqual(at(64));
    // Its first failing buckets, each normal on its own, must not teach the baseline before the window sees
    // them together: joining it at once, they raise it and the insight opens two buckets later (before
    // the window's span opened at once, not at all).
    const opened = (detector = {}) =>
      openedEvents(detectInsights(buckets, { from: at(12), to: at(80), detector })).map(
        (e) => Date.parse(e.Time) / 1000,
      );
    expect(opened()).toEqual([at(43)]);
    expect(opened({ rateBaselineDelayBuckets: 0 })).toEqual([at(45)]);
  });

  it('resumed from its saved state while buckets wait to join the baseline, emits what one continuous run does', () => {
    const buckets = QUIET_FAILING;
    const whole = detectInsights(buckets, { from: at(12), to: at(80) });
    expect(whole.length).toBeGreaterThan(0);
    for (const cut of [41, 42, 43, 45]) expect(resumedAt(buckets, at(12), at(80), at(cut))).toEqual(whole);
  });

  it('resumed from its saved state inside a low-traffic window, opens and stays closed as one continuous run does', () => {
    // The window's span reads which earlier buckets were judged while an insight was open: the saved state
    // must carry that, or a resumed run would reopen (or open late) where a continuous one does not.
    const night = series('reports', 80, (i) =>
      i % 3 !== 0
        ? { requests: 0, errors: 0, faults: 0, p95: null }
        : { requests: 1, errors: 0, faults: i >= 40 ? 1 : 0, p95: null },
    ).filter((b) => b.requests > 0);
    const afterClose = series('reports', 80, (i) => ({
      requests: 3,
      errors: 0,
      faults: i >= 40 && i < 50 ? 3 : i === 54 ? 1 : 0,
      p95: null,
    }));
    for (const [buckets, cuts] of [
      [night, [46, 49, 51, 52]],
      [afterClose, [50, 52, 53, 54]],
    ] as const) {
      const whole = detectInsights(buckets, { from: at(12), to: at(80) });
      expect(openedEvents(whole)).toHaveLength(1);
      for (const cut of cuts) expect(resumedAt(buckets, at(12), at(80), at(cut))).toEqual(whole);
    }
  });

  it("does not take a young service's first ordinary errors for an incident after a quiet first hour", () => {
    // A demo week's payments (seed 1 ending 2026-11-23 03:57 UTC), from its first bucket: 161 requests and
    // no error in the night's first hour, then the morning's errors, about 2% as every day. A prior weighed
    // as 1,000 requests outweighed that hour (a baseline of 0.04%) and opened a false insight here.
    const requests = [
      8, 16, 18, 11, 16, 16, 16, 15, 20, 11, 14, 22, 16, 13, 18, 11, 19, 12, 15, 15, 9, 22, 12, 24, 22, 19,
      19, 21, 18, 22, 24, 19, 16, 29,
    ];
    const errors = [
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    const buckets = series('payments', requests.length, (i) => ({
      requests: requests[i]!,
      errors: errors[i]!,
      faults: 0,
      p95: null,
    }));
    const range = { from: at(0), to: at(requests.length) };
    expect(detectInsights(buckets, range)).toEqual([]);
    const strongPrior = detectInsights(buckets, { ...range, detector: { ratePriorRequests: 1000 } });
    expect(openedEvents(strongPrior).map((e) => e.Detail.Categories[0])).toEqual(['ERROR']);
  });

  it("judges a busy series' rates exactly as rateVerdict, the pure rule, does (randomized)", () => {
    // The detector keeps running sums and screens with binomial bounds; the pure function states the rule
    // plainly. A model built from it must open the very same insights.
    const random = new Random(21);
    let openings = 0;
    for (let trial = 0; trial < 4; trial++) {
      const rate = 0.03 + 0.04 * random.next();
      let failing = 0;
      const rows = Array.from({ length: 2 * 288 }, (_, i) => {
        if (failing === 0 && random.next() < 0.01) failing = 1 + Math.floor(random.next() * 10);
        const factor = failing > 0 ? (failing--, 1.3 + 2 * random.next()) : 1;
        // Young and thin early (the predictive's exact tail), busy later (the screens).
        const requests = i < 30 ? 200 + i * 10 : 300 + Math.floor(200 * random.next());
        let faults = 0;
        for (let r = 0; r < requests; r++) if (random.next() < rate * factor) faults++;
        return { requests, faults };
      });
      const buckets = series('svc', rows.length, (i) => ({ ...rows[i]!, errors: 0, p95: null }));
      const opened = openedEvents(
        detectInsights(buckets, { from: at(0), to: at(rows.length), detector: { ownRateAlpha: 1 } }),
      ).map((e) => e.Time);
      const expected = pureRateOpenings(rows);
      expect(opened).toEqual(expected);
      openings += expected.length;
    }
    expect(openings).toBeGreaterThan(5); // incidents were found, so the comparison says something
  });

  it('opens on a quiet service whose few requests all fail, with empty buckets between them', () => {
    // One request every other bucket from bucket 40, each failing; before, 2 requests a bucket, all fine.
    const buckets = series('reports', 80, (i) =>
      i < 40
        ? { requests: 2, errors: 0, faults: 0, p95: null }
        : i % 2 === 0
          ? { requests: 1, errors: 0, faults: 1, p95: null }
          : { requests: 0, errors: 0, faults: 0, p95: null },
    ).filter((b) => b.requests > 0); // the view has no row for a bucket without requests
    const opened = detectInsights(buckets, { from: at(12), to: at(80) }).filter(
      (e) => e.Detail.State === 'ACTIVE',
    );
    expect(opened.map((e) => [e.Detail.RootCauseServiceId.Name, e.Detail.Categories[0]])).toContainEqual([
      'reports',
      'FAULT',
    ]);
    expect(Date.parse(opened[0]!.Time) / 1000).toBeLessThanOrEqual(at(50));
  });

  it('opens at night on a quiet service whose failing requests come one every three buckets', () => {
    // A request every 15 minutes, all fine, then from bucket 40 each failing: six 5-minute buckets hold two
    // requests, so only a window of the last buckets with requests can reach rateMinFailures.
    const night = (i: number) =>
      i % 3 !== 0
        ? { requests: 0, errors: 0, faults: 0, p95: null }
        : { requests: 1, errors: 0, faults: i >= 40 ? 1 : 0, p95: null };
    const buckets = series('reports', 80, night).filter((b) => b.requests > 0);
    const openings = (detector = {}) =>
      detectInsights(buckets, { from: at(12), to: at(80), detector }).filter(
        (e) => e.Detail.State === 'ACTIVE' && e.Detail.Categories[0] === 'FAULT',
      );
    const opened = openings();
    expect(opened).toHaveLength(1);
    // With 13 requests of history the baseline is uncertain (see rateScore): three failures of six are not
    // yet beyond the window's alpha, the fourth failing request (bucket 51) makes a window anomalous, and
    // as its failures span four buckets, more than openAfter, it opens there and then; the insight starts
    // at 51, not at the window's first failure, which a quiet service's ordinary failure could have been.
    // Waiting for a second anomalous window, it opened at 54.
    expect(Date.parse(opened[0]!.Time) / 1000).toBe(at(51));
    expect(Date.parse(opened[0]!.Detail.StartTime) / 1000).toBe(at(51));
    // Looking back only 6 buckets, the window holds two requests again and nothing opens.
    expect(openings({ rateWindowMaxBuckets: 6 })).toEqual([]);
  });

  it('does not reopen on a window whose other failures came while its insight was open', () => {
    // Three requests a bucket, all failing from 40 to 49: an insight opens and closes at 52. One failure
    // follows (54): the window at 54 still holds the incident's last failures and is anomalous, but those
    // belong to the closed insight; counted towards the window's span they reopened it at once.
    const buckets = series('reports', 80, (i) => ({
      requests: 3,
      errors: 0,
      faults: i >= 40 && i < 50 ? 3 : i === 54 ? 1 : 0,
      p95: null,
    }));
    const events = detectInsights(buckets, { from: at(12), to: at(80) });
    expect(events.map((e) => [e.Detail.State, Date.parse(e.Time) / 1000])).toEqual([
      ['ACTIVE', at(41)],
      ['CLOSED', at(52)],
    ]);
  });

  it('resumed from its saved state, emits exactly what one continuous run does', () => {
    const edges = [{ caller: 'checkout', callee: 'payments' }];
    const buckets = [
      ...series('checkout', 90, (i) =>
        i >= 30 && i < 36 ? { faults: 60 } : i >= 60 && i < 70 ? { p95: 2 } : {},
      ),
      ...series('payments', 90, (i) => (i >= 30 && i < 36 ? { faults: 60 } : {})),
    ];
    const whole = detectInsights(buckets, { from: at(12), to: at(90), edges });
    expect(whole.length).toBeGreaterThanOrEqual(4);
    const pieces = [];
    let saved: ReturnType<Detector['state']> | undefined;
    for (const [from, to] of [
      [at(0), at(33)],
      [at(33), at(34)],
      [at(34), at(65)],
      [at(65), at(90)],
    ] as const) {
      const detector = new Detector({}, saved && JSON.parse(JSON.stringify(saved)));
      detector.addEdges(edges);
      pieces.push(
        ...replay(
          detector,
          buckets.filter((b) => b.bucket < to),
          Math.max(from, at(12)),
          to,
        ),
      );
      saved = detector.state();
    }
    expect(pieces).toEqual(whole);
  });

  it('resumed from its saved state, judges medians exactly as one continuous run does', () => {
    const buckets = MEDIAN_SHIFT;
    const whole = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(whole).toHaveLength(2);
    const resumed = resumedAt(buckets, at(12), at(60), at(31), (saved) =>
      expect(float32s(saved.services.payments!.p50f32!)).toHaveLength(31),
    );
    expect(resumed).toEqual(whole);
  });

  it('judges latency exactly as baselineFor and latencyVerdict, the pure rule, do (randomized)', () => {
    // The detector keeps its baselines in a ring and screens before computing medians; the pure functions
    // state the rule plainly. A model built from them must open the very same insights.
    const random = new Random(9);
    let openings = 0;
    for (let trial = 0; trial < 4; trial++) {
      const n = 4 * 288;
      let slow = 0;
      const p95s = Array.from({ length: n }, (_, i) => {
        if (slow === 0 && random.next() < 0.004) slow = 3 + Math.floor(random.next() * 10);
        const factor = slow > 0 ? (slow--, 1.5 + 2 * random.next()) : 1;
        const daily = 1 + 0.3 * Math.sin((2 * Math.PI * i) / 288);
        return Math.fround(0.2 * daily * random.logNormal(1, 0.15) * factor);
      });
      const buckets = series('svc', n, (i) => ({ errors: 0, faults: 0, p95: p95s[i]! }));
      // The pure rule has no own-rate gate (tested on its own below): off here.
      const opened = openedEvents(
        detectInsights(buckets, { from: at(0), to: at(n), detector: { ownRateAlpha: 1 } }),
      ).map((e) => e.Time);

      const { expected } = pureOpenings(p95s, false);
      expect(opened).toEqual(expected);
      openings += expected.length;
    }
    expect(openings).toBeGreaterThan(5); // the slowdowns were found, so the comparison says something
  });

  describe("with each series' own anomaly rate (ownRateAlpha)", () => {
    const { n, buckets } = OFTEN_SLOW;

    it('holds back the openings of a series that is often anomalous, and opens on a real slowdown from its start', () => {
      const events = openedEvents(detectInsights(buckets, { from: at(400), to: at(n) }));
      expect(events).toHaveLength(1);
      // Held past the usual two buckets (two anomalous in an hour are common here), dated from the run's start.
      expect(events[0]!.Detail.StartTime).toBe(new Date(at(800) * 1000).toISOString());
      expect(Date.parse(events[0]!.Time) / 1000).toBeGreaterThan(at(801));
      expect(Date.parse(events[0]!.Time) / 1000).toBeLessThan(at(812));
    });

    it('resumed from its saved state mid-run, holds back and opens exactly as one continuous run', () => {
      const whole = detectInsights(buckets, { from: at(400), to: at(n) });
      // Cut inside the held-back run: the resumed detector counts the rate from its restored ring.
      const first = new Detector();
      const before = replay(first, buckets, at(400), at(803));
      const second = new Detector({}, JSON.parse(JSON.stringify(first.state())));
      const after = replay(second, buckets, at(803), at(n));
      expect(after.length).toBeGreaterThan(0);
      expect([...before, ...after]).toEqual(whole);
    });

    it('lets a steady series open after openAfter anomalous buckets, as without it', () => {
      const steady = series('search', n, (i) => (i >= 800 && i < 820 ? { p95: 0.6 } : {}));
      const on = openedEvents(detectInsights(steady, { from: at(400), to: at(n) }));
      const off = openedEvents(
        detectInsights(steady, { from: at(400), to: at(n), detector: { ownRateAlpha: 1 } }),
      );
      expect(on.map((e) => e.Time)).toEqual([new Date(at(801) * 1000).toISOString()]);
      expect(on.map((e) => e.Time)).toEqual(off.map((e) => e.Time));
    });

    it('decides as the rule stated plainly over every earlier bucket does (randomized)', () => {
      // Blips of one or two slow buckets are common here (so the rate bites), slowdowns rarer.
      const random = new Random(17);
      let openings = 0;
      let heldBack = 0;
      for (let trial = 0; trial < 4; trial++) {
        const count = 4 * 288;
        let slow = 0;
        const p95s = Array.from({ length: count }, () => {
          const u = random.next();
          if (slow === 0 && u < 0.004) slow = 4 + Math.floor(random.next() * 10);
          else if (slow === 0 && u < 0.03) slow = 1 + Math.floor(random.next() * 2);
          const factor = slow > 0 ? (slow--, 2.5 + random.next()) : 1;
          return Math.fround(0.2 * random.logNormal(1, 0.1) * factor);
        });
        const data = series('svc', count, (i) => ({ errors: 0, faults: 0, p95: p95s[i]! }));
        const opened = openedEvents(detectInsights(data, { from: at(0), to: at(count) })).map((e) => e.Time);

        const { expected, held: heldHere } = pureOpenings(p95s, true);
        heldBack += heldHere;
        expect(opened).toEqual(expected);
        openings += expected.length;
      }
      // Both happened, so the comparison says something.
      expect(openings).toBeGreaterThan(5);
      expect(heldBack).toBeGreaterThan(5);
    });
  });

  it('saves the latencies as float32 bytes that read back to the very same ring (randomized)', () => {
    const random = new Random(5);
    const buckets = series('a', 300, (i) => ({
      ...healthy(i % 7 === 0 ? [] : durations(20, 0.1, 0.3)),
      p95: i % 11 === 0 ? null : random.next() * 10 ** (random.next() * 8 - 4),
      p50: i % 13 === 0 ? null : random.next() * 10 ** (random.next() * 8 - 4),
    }));
    const detector = new Detector();
    replay(detector, buckets, at(0), at(300));
    const state = JSON.parse(JSON.stringify(detector.state()));
    expect(state.version).toBe(2);
    const saved = state.services.a;
    expect(saved.start).toBe(at(0));
    expect(saved.time).toBeUndefined(); // contiguous: the times are implied
    expect(saved.requests).toHaveLength(300);
    // Every value as the ring held it (float32), a missing one as NaN.
    expect(float32s(saved.p95f32)).toEqual(
      buckets.map((b) => (b.p95 === null ? Number.NaN : Math.fround(b.p95))),
    );
    // Restored, it saves the very same state again.
    expect(new Detector({}, state).state()).toEqual(detector.state());
  });

  it('reads a state saved before the latencies were float32 bytes (version 1) and judges alike', () => {
    const buckets = MEDIAN_SHIFT;
    const whole = detectInsights(buckets, { from: at(12), to: at(60) });
    expect(whole).toHaveLength(2);
    // Version 1 wrote each latency as a JSON number of nine significant digits (null for none).
    const asVersion1 = (v1: DetectorState) => {
      v1.version = 1;
      for (const service of Object.values(v1.services) as unknown as Record<string, unknown>[]) {
        for (const field of ['p95', 'p50']) {
          service[field] = float32s(service[`${field}f32`] as string).map((v) =>
            Number.isNaN(v) ? null : Number(v.toPrecision(9)),
          );
          delete service[`${field}f32`];
        }
      }
    };
    expect(resumedAt(buckets, at(12), at(60), at(31), asVersion1)).toEqual(whole);
  });

  it('refuses a state whose latencies do not match its buckets, naming the service', () => {
    const detector = new Detector();
    replay(detector, series('checkout', 30), at(0), at(30));
    const state = JSON.parse(JSON.stringify(detector.state()));
    state.services.checkout.p95f32 = Buffer.alloc(29 * 4).toString('base64');
    expect(() => new Detector({}, state)).toThrow(
      /p95f32 of service checkout holds 29 values for 30 buckets/,
    );
    state.version = 3;
    expect(() => new Detector({}, state)).toThrow(/unknown detector state version 3/);
  });

  it('saves a ring restored with gaps (a version 1 state) in time order with its times', () => {
    // A 4-bucket ring. Version 1 states listed each slot's time when the slots were not contiguous; restored,
    // buckets 10 and 13 stay in slots 2 and 1, behind the newest (20, slot 0) in the ring's own order.
    const historyDays = (4 * BUCKET_SECONDS) / 86_400;
    const detector = new Detector({ historyDays });
    replay(detector, series('a', 21), at(0), at(21));
    const state = JSON.parse(JSON.stringify(detector.state()));
    const service = state.services.a;
    const p95 = float32s(service.p95f32);
    for (const field of ['requests', 'errors', 'faults', 'throttles', 'normal'])
      service[field] = service[field].slice(1);
    Object.assign(service, { p95: p95.slice(1), time: [at(10), at(13), at(20)] });
    delete service.p95f32;
    delete service.p50f32;
    state.version = 1;
    const resaved = new Detector({ historyDays }, state).state().services.a!;
    expect(resaved.time).toEqual([at(10), at(13), at(20)]);
    expect(resaved.requests).toEqual(service.requests);
  });

  describe('with the latency noise model on', () => {
    const model = { latencyNoiseModel: 1 };
    // Judged from bucket 400, after the model has learned.
    const { n, buckets } = OFTEN_SLOW;
    const opened = (events: ReturnType<typeof detectInsights>) =>
      openedEvents(events).map((e) => e.Detail.StartTime);

    it('learns that a service is often slow for a while, where the band alerts every time, and still finds a slowdown', () => {
      const band = opened(
        detectInsights(buckets, { from: at(400), to: at(n), detector: { ownRateAlpha: 1 } }),
      );
      expect(band.length).toBeGreaterThan(15);
      const noise = opened(detectInsights(buckets, { from: at(400), to: at(n), detector: model }));
      expect(noise).toHaveLength(1);
      const start = Date.parse(noise[0]!) / 1000;
      expect(start).toBeGreaterThanOrEqual(at(800));
      expect(start).toBeLessThanOrEqual(at(804));
    });

    it('resumed from its saved state, emits exactly what one continuous run does', () => {
      const whole = detectInsights(buckets, { from: at(400), to: at(n), detector: model });
      const first = new Detector({ detector: model });
      // Cut mid-slowdown, with the insight open and the model's window full of it.
      const before = replay(first, buckets, at(400), at(805));
      const saved = JSON.parse(JSON.stringify(first.state()));
      expect(saved.services.search.noise).toHaveLength(5 + DETECTOR_DEFAULTS.latencyNoiseWindow);
      const second = new Detector({ detector: model }, saved);
      const after = replay(second, buckets, at(805), at(n));
      expect(after.length).toBeGreaterThan(0);
      expect([...before, ...after]).toEqual(whole);
    });

    it('keeps nothing of the model in the state when it is off', () => {
      const detector = new Detector();
      replay(detector, buckets.slice(0, 50), at(0), at(50));
      expect(detector.state().services.search!.noise).toBeUndefined();
    });
  });

  describe('a series silent for its whole history', () => {
    // A ring of 6 buckets: b stops after bucket 9, is silent from 10 to 29, and comes back at 30.
    const historyDays = (6 * BUCKET_SECONDS) / 86_400;
    const buckets = [...series('a', 40), ...series('b', 40).filter((_, i) => i < 10 || i >= 30)];
    const names = (detector: Detector) => Object.keys(detector.state().services);

    it('is forgotten once its ring holds no traffic, in the run as in its state, and starts afresh when back', () => {
      const detector = new Detector({ historyDays });
      replay(detector, buckets, at(0), at(15));
      // Buckets 10 to 14 silent: its ring still holds bucket 9.
      expect(names(detector)).toEqual(['a', 'b']);
      replay(detector, buckets, at(15), at(16));
      expect(names(detector)).toEqual(['a']);
      expect([...detector.scores.keys()]).toEqual(['a']);
      replay(detector, buckets, at(16), at(31));
      expect(names(detector)).toEqual(['a', 'b']);
      expect(detector.state().services.b!.requests).toEqual([200]);
    });

    it('is forgotten alike by a run resumed from a state saved while it was silent', () => {
      const whole = new Detector({ historyDays });
      const events = replay(whole, buckets, at(0), at(40));
      const first = new Detector({ historyDays });
      const before = replay(first, buckets, at(0), at(12));
      const second = new Detector({ historyDays }, JSON.parse(JSON.stringify(first.state())));
      const after = replay(second, buckets, at(12), at(40));
      expect([...before, ...after]).toEqual(events);
      expect(second.state()).toEqual(whole.state());
    });

    it('is kept while its insight is open', () => {
      // A ring of 20 buckets; b fails every request from bucket 14 and falls silent at 18 with its insight
      // open (it closes after closeSilentBuckets, 288): still there with its ring empty, at bucket 45.
      const ring = (20 * BUCKET_SECONDS) / 86_400;
      const failing = [...series('a', 46), ...series('b', 18, (i) => (i >= 14 ? { faults: 200 } : {}))];
      const detector = new Detector({ historyDays: ring });
      const events = replay(detector, failing, at(0), at(46));
      expect(openedEvents(events).map((e) => e.Detail.RootCauseServiceId.Name)).toEqual(['b']);
      expect(names(detector)).toEqual(['a', 'b']);
    });
  });

  it('forgets edge series a ring after edgeSeries is turned off', () => {
    const historyDays = (6 * BUCKET_SECONDS) / 86_400;
    const on = new Detector({ historyDays, detector: { edgeSeries: 1 } });
    const fleet = [...series('api', 20), ...series('db', 20), ...series('api -> db', 20)];
    replay(on, fleet, at(0), at(10));
    expect(Object.keys(on.state().services)).toEqual(['api', 'db', 'api -> db']);
    const off = new Detector({ historyDays }, JSON.parse(JSON.stringify(on.state())));
    // Without edgeSeries the scheduled run reads service_buckets only: the edge gets no bucket.
    replay(
      off,
      fleet.filter((b) => !b.service.includes('->')),
      at(10),
      at(20),
    );
    expect(Object.keys(off.state().services)).toEqual(['api', 'db']);
  });

  it('refuses buckets out of order and a state kept with another history length', () => {
    const detector = new Detector();
    detector.advance(at(0), series('a', 1));
    expect(() => detector.advance(at(2), [])).toThrow(DetectorStateError);
    expect(() => new Detector({ historyDays: 3 }, detector.state())).toThrow(/history/);
  });
});
