import { checkNumber } from '../bounded-number.js';
import { ATHENA_ENV, AthenaConfigError, athenaConfigFromEnv } from '../query/config.js';
import { parseLakeRoot } from '../store/object-store.js';
import { DETECT_DEFAULTS } from './detect.js';
import { InsightsError } from './errors.js';
import { INSIGHT_SOURCE, INSIGHT_SOURCE_PATTERN } from './events.js';
import { METRICS_NAMESPACE } from './metrics.js';
import { SCHEDULED_DETECT_DEFAULTS, type ScheduledDetectConfig } from './scheduled.js';
import { parseInsightSink } from './sinks.js';
import { parseThresholds, ThresholdsError } from './thresholds.js';

/** A bad environment variable of the detection Lambda, named. */
export class DetectConfigError extends InsightsError {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/**
 * The detection Lambda's deployed configuration, read once at cold start: what a scheduled run takes
 * (threshold overrides from `DETECT_THRESHOLDS`), and where its lake, engine and outputs are.
 */
export interface DetectConfig extends ScheduledDetectConfig {
  /** `s3://bucket/prefix` (read through Athena), or a folder (DuckDB, for running the handler locally). */
  lakeRoot: string;
  athenaWorkgroup: string;
  athenaDatabase: string;
  /** `eventbridge:BUS`, `jsonl:PATH` or `stdout`. */
  sink: string;
  source: string;
  metricsNamespace: string;
}

/** Environment variables, by config field: the handler's contract with infra/. */
export const DETECT_ENV = {
  lakeRoot: 'LAKE_ROOT',
  athenaWorkgroup: ATHENA_ENV.workgroup,
  athenaDatabase: ATHENA_ENV.database,
  sink: 'INSIGHT_SINK',
  source: 'INSIGHT_SOURCE',
  metricsNamespace: 'INSIGHT_METRICS_NAMESPACE',
  lagMinutes: 'DETECT_LAG_MINUTES',
  historyDays: 'DETECT_HISTORY_DAYS',
  maxBuckets: 'DETECT_MAX_BUCKETS',
  thresholds: 'DETECT_THRESHOLDS',
} as const;

/** Reads and checks the detection configuration; a bad value throws {@link DetectConfigError} naming it. */
export function detectConfigFromEnv(env: Record<string, string | undefined>): DetectConfig {
  const lakeRoot = env[DETECT_ENV.lakeRoot];
  if (!lakeRoot) throw new DetectConfigError(DETECT_ENV.lakeRoot, 'required: s3://bucket/prefix of the lake');
  parseLakeRoot(lakeRoot);
  const sink = env[DETECT_ENV.sink];
  if (!sink) throw new DetectConfigError(DETECT_ENV.sink, 'required: eventbridge:BUS, jsonl:PATH or stdout');
  if (!parseInsightSink(sink))
    throw new DetectConfigError(
      DETECT_ENV.sink,
      `expected eventbridge:BUS, jsonl:PATH or stdout, got "${sink}"`,
    );
  const number = (
    field: 'lagMinutes' | 'historyDays' | 'maxBuckets',
    fallback: number,
    min: number,
    max: number,
  ) => {
    const raw = env[DETECT_ENV[field]];
    if (raw === undefined || raw === '') return fallback;
    const checked = checkNumber(raw, { min, max, integer: true });
    if ('problem' in checked) throw new DetectConfigError(DETECT_ENV[field], checked.problem);
    return checked.value;
  };
  let athena: { workgroup: string; database: string };
  try {
    athena = athenaConfigFromEnv(env);
  } catch (error) {
    if (error instanceof AthenaConfigError) throw new DetectConfigError(error.variable, error.problem);
    throw error;
  }
  const name = (field: 'source' | 'metricsNamespace', fallback: string) => {
    const value = env[DETECT_ENV[field]] || fallback;
    const pattern = field === 'source' ? INSIGHT_SOURCE_PATTERN : /^[A-Za-z0-9._\-/]{1,255}$/;
    if (!pattern.test(value))
      throw new DetectConfigError(DETECT_ENV[field], `"${value}" is not a valid name`);
    return value;
  };
  let thresholds: ReturnType<typeof parseThresholds>;
  try {
    thresholds = parseThresholds(env[DETECT_ENV.thresholds] ?? '', DETECT_ENV.thresholds);
  } catch (error) {
    if (error instanceof ThresholdsError) throw new DetectConfigError(DETECT_ENV.thresholds, error.problem);
    throw error;
  }
  return {
    ...(Object.keys(thresholds.detector).length > 0 && { detector: thresholds.detector }),
    ...(Object.keys(thresholds.lifecycle).length > 0 && { lifecycle: thresholds.lifecycle }),
    lakeRoot,
    sink,
    athenaWorkgroup: athena.workgroup,
    athenaDatabase: athena.database,
    source: name('source', INSIGHT_SOURCE),
    metricsNamespace: name('metricsNamespace', METRICS_NAMESPACE),
    lagMinutes: number('lagMinutes', SCHEDULED_DETECT_DEFAULTS.lagMinutes, 0, 1440),
    historyDays: number('historyDays', DETECT_DEFAULTS.historyDays, 1, 30),
    maxBuckets: number('maxBuckets', SCHEDULED_DETECT_DEFAULTS.maxBuckets, 1, 8640),
    firstRunBuckets: SCHEDULED_DETECT_DEFAULTS.firstRunBuckets,
  };
}
