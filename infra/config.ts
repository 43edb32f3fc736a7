import { checkNumber } from '../lib/bounded-number.js';
import { parseThresholds, ThresholdsError } from '../lib/insights/thresholds.js';
import { ATHENA_DEFAULTS, ATHENA_NAME_PATTERNS } from '../lib/query/config.js';

/**
 * The stack's settings, from CDK context (`cdk synth -c key=value` or cdk.json), checked once: a bad
 * value fails synthesis with a message naming the context key.
 */
export class StackConfigError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`context "${key}": ${problem}`);
    this.name = new.target.name;
  }
}

export interface StackConfig {
  /** The lake's prefix in its bucket (no slashes at the ends). */
  lakePrefix: string;
  /** An existing KMS key for the lake (SSE-KMS); S3-managed encryption when absent. */
  kmsKeyArn?: string;
  /** Days before lake objects move to S3 Standard-IA, then to Glacier Instant Retrieval (Athena reads both). */
  infrequentAccessDays: number;
  glacierInstantRetrievalDays: number;
  /** Days before lake objects expire; kept forever when absent. */
  expireDays?: number;
  /** Days Athena query results are kept. */
  resultsExpireDays: number;
  exportScheduleMinutes: number;
  detectScheduleMinutes: number;
  /**
   * The detect function's memory (MB). A scheduled run holds the detector state: loading and saving it for
   * 7 days of 1,000 services peaked at 286 MiB, of 2,000 at 456 MiB (bench/detect-state.ts), so 1,024 MB
   * holds about 5,000 services.
   */
  detectMemoryMB: number;
  /**
   * The exporter's and backfill worker's memory (MB), which is also their CPU: Lambda gives CPU in
   * proportion to memory, one vCPU at 1,769 MB. The exporter is one thread, mostly waiting on X-Ray at
   * the default; a trace's own work is CPU (parse, convert, encode), so an account whose export lags
   * while X-Ray does not throttle it goes faster with more, up to one vCPU and no further.
   */
  exportMemoryMB: number;
  /** Athena's per-query scan cutoff, in bytes (the workgroup enforces it). */
  bytesScannedCutoff: number;
  /** The backfill worker's concurrency: keeps BatchGetTraces within X-Ray's read quota. */
  backfillConcurrency: number;
  /** Alarm when the export lags by more than this many minutes. */
  lagAlarmMinutes: number;
  /** Redaction rules for the exporter (lib/lake/redact.ts). */
  redact?: string;
  /** Detection threshold overrides, `name=value,...` (lib/insights/thresholds.ts), checked at synth. */
  detectThresholds?: string;
  /**
   * Reserve one concurrent execution each for the exporter and detection (one run at a time, and X-Ray's
   * quota never shared with a second exporter). Off for accounts still at the new-account quota of 10,
   * which cannot reserve any; the exporter's lease and detection's conditional state writes still keep
   * overlapping runs harmless.
   */
  reserveConcurrency: boolean;
  database: string;
  workgroup: string;
  busName: string;
}

export const STACK_DEFAULTS = {
  lakePrefix: 'xray',
  infrequentAccessDays: 30,
  glacierInstantRetrievalDays: 180,
  resultsExpireDays: 7,
  exportScheduleMinutes: 5,
  detectScheduleMinutes: 5,
  detectMemoryMB: 1024,
  exportMemoryMB: 1024,
  bytesScannedCutoff: 10 * 1024 ** 3,
  backfillConcurrency: 2,
  lagAlarmMinutes: 30,
  reserveConcurrency: true,
  database: ATHENA_DEFAULTS.database,
  workgroup: ATHENA_DEFAULTS.workgroup,
  busName: 'xray-lake-insights',
} as const;

/** Reads the stack's configuration from a context lookup (`node.tryGetContext`). */
export function stackConfig(context: (key: string) => unknown): StackConfig {
  const text = (key: keyof StackConfig, fallback?: string, pattern?: RegExp): string | undefined => {
    const raw = context(key);
    if (raw === undefined || raw === '') return fallback;
    if (typeof raw !== 'string')
      throw new StackConfigError(key, `expected a string, got ${JSON.stringify(raw)}`);
    if (pattern && !pattern.test(raw)) throw new StackConfigError(key, `"${raw}" does not match ${pattern}`);
    return raw;
  };
  const number = (key: keyof StackConfig, fallback: number | undefined, min: number, max: number) => {
    const raw = context(key);
    if (raw === undefined || raw === '') return fallback;
    if (typeof raw !== 'string' && typeof raw !== 'number')
      throw new StackConfigError(key, `expected a whole number, got ${JSON.stringify(raw)}`);
    const checked = checkNumber(raw, { min, max, integer: true });
    if ('problem' in checked) throw new StackConfigError(key, checked.problem);
    return checked.value;
  };
  const d = STACK_DEFAULTS;
  const config: StackConfig = {
    lakePrefix: text('lakePrefix', d.lakePrefix, /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/)!,
    infrequentAccessDays: number('infrequentAccessDays', d.infrequentAccessDays, 30, 3650)!,
    glacierInstantRetrievalDays: number(
      'glacierInstantRetrievalDays',
      d.glacierInstantRetrievalDays,
      90,
      3650,
    )!,
    resultsExpireDays: number('resultsExpireDays', d.resultsExpireDays, 1, 365)!,
    exportScheduleMinutes: number('exportScheduleMinutes', d.exportScheduleMinutes, 1, 60)!,
    detectScheduleMinutes: number('detectScheduleMinutes', d.detectScheduleMinutes, 5, 60)!,
    // Lambda's range: https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
    detectMemoryMB: number('detectMemoryMB', d.detectMemoryMB, 128, 10_240)!,
    exportMemoryMB: number('exportMemoryMB', d.exportMemoryMB, 128, 10_240)!,
    bytesScannedCutoff: number('bytesScannedCutoff', d.bytesScannedCutoff, 10 * 1024 ** 2, 1024 ** 5)!,
    backfillConcurrency: number('backfillConcurrency', d.backfillConcurrency, 2, 50)!,
    lagAlarmMinutes: number('lagAlarmMinutes', d.lagAlarmMinutes, 5, 1440)!,
    reserveConcurrency: d.reserveConcurrency,
    database: text('database', d.database, ATHENA_NAME_PATTERNS.database)!,
    workgroup: text('workgroup', d.workgroup, ATHENA_NAME_PATTERNS.workgroup)!,
    busName: text('busName', d.busName, /^[A-Za-z0-9._-]{1,256}$/)!,
  };
  const reserve = context('reserveConcurrency');
  if (reserve !== undefined && reserve !== '') {
    if (reserve !== true && reserve !== false && reserve !== 'true' && reserve !== 'false')
      throw new StackConfigError(
        'reserveConcurrency',
        `expected true or false, got ${JSON.stringify(reserve)}`,
      );
    config.reserveConcurrency = reserve === true || reserve === 'true';
  }
  const kms = text('kmsKeyArn', undefined, /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/);
  if (kms) config.kmsKeyArn = kms;
  const expire = number('expireDays', undefined, 1, 36500);
  if (expire !== undefined) {
    if (expire <= config.glacierInstantRetrievalDays)
      throw new StackConfigError(
        'expireDays',
        `must be after glacierInstantRetrievalDays (${config.glacierInstantRetrievalDays})`,
      );
    config.expireDays = expire;
  }
  if (config.glacierInstantRetrievalDays <= config.infrequentAccessDays)
    throw new StackConfigError('glacierInstantRetrievalDays', 'must be after infrequentAccessDays');
  const redact = text('redact');
  if (redact) config.redact = redact;
  const thresholds = text('detectThresholds');
  if (thresholds) {
    try {
      parseThresholds(thresholds, 'detectThresholds');
    } catch (error) {
      if (error instanceof ThresholdsError) throw new StackConfigError('detectThresholds', error.problem);
      throw error;
    }
    config.detectThresholds = thresholds;
  }
  return config;
}
