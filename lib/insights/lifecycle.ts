/**
 * The per-series core of the insight lifecycle: an insight opens when a series stays anomalous for
 * `openAfter` consecutive buckets, and closes after `closeAfter` consecutive normal ones. Between the two
 * nothing new opens, so one incident is one insight, however long it lasts. Pure: state in, state out, so
 * it can be persisted between scheduled runs and replayed exactly. (The detector opens one case sooner: a
 * low-traffic window whose failures already span `openAfter` buckets, see `Detector.advance`.)
 */
export const LIFECYCLE_DEFAULTS = {
  /** Consecutive anomalous buckets before an insight opens: a one-bucket blip never alerts. */
  openAfter: 2,
  /** Consecutive normal buckets before an open insight closes. */
  closeAfter: 3,
  /**
   * Consecutive buckets without a single request before an open insight closes all the same (288: a day).
   * Buckets without requests do not count towards closing (a quiet service failing every request it gets
   * has them between its failures), so an insight whose series stopped getting requests for good (the
   * service retired or renamed mid-incident, its edge series turned off) stayed ACTIVE forever.
   */
  closeSilentBuckets: 288,
  /**
   * An open insight is published again (State ACTIVE, same id) when its root cause's metric moves by this
   * factor either way from what was last published, besides when its root cause or its spread changes.
   */
  updateImpactRatio: 2,
  /**
   * Buckets an insight's series stays anomalous before its level is taken as its new normal (288: a day;
   * 0: never). The buckets an open insight spans are kept out of the series' baseline, so a lasting shift (a
   * deploy that made a service slower for good, a client that keeps sending bad requests) held its insight
   * open, at the old baseline, until the history ring had forgotten every bucket before it: a week. Past
   * this many buckets the series' history restarts at the shift (the buckets before it forgotten, those
   * since counted normal), and the insight closes saying so.
   */
  newNormalAfterBuckets: 288,
} as const;

export type LifecycleOptions = { -readonly [K in keyof typeof LIFECYCLE_DEFAULTS]: number };

export interface SeriesState {
  open: boolean;
  anomalousRun: number;
  normalRun: number;
  /** Buckets without requests in a row while open (see `closeSilentBuckets`); absent when none, and in older states. */
  silentRun?: number;
}

export const initialSeriesState = (): SeriesState => ({ open: false, anomalousRun: 0, normalRun: 0 });

/** What a bucket did to the series' insight. */
export type Transition = 'none' | 'opened' | 'ongoing' | 'closed';

/**
 * Advances a series by one bucket. `anomalous` is the detector's verdict; a bucket with no verdict
 * (warming up, too few requests) should be passed as not anomalous.
 */
export function step(
  state: SeriesState,
  anomalous: boolean,
  options: Partial<LifecycleOptions> = {},
): { state: SeriesState; transition: Transition } {
  const o = { ...LIFECYCLE_DEFAULTS, ...options };
  const anomalousRun = anomalous ? state.anomalousRun + 1 : 0;
  const normalRun = anomalous ? 0 : state.normalRun + 1;
  if (!state.open) {
    const opens = anomalousRun >= o.openAfter;
    return { state: { open: opens, anomalousRun, normalRun }, transition: opens ? 'opened' : 'none' };
  }
  const closes = normalRun >= o.closeAfter;
  return { state: { open: !closes, anomalousRun, normalRun }, transition: closes ? 'closed' : 'ongoing' };
}
