import { checkNumber } from '../bounded-number.js';
import { parseRedaction, RedactionRuleError } from '../lake/redact.js';
import { parseLakeRoot } from '../store/object-store.js';
import { ExportConfigError } from './errors.js';

/** The exporter's deployed configuration, read once at a Lambda's cold start. */
export interface ExportConfig {
  /** `s3://bucket/prefix` (or a folder, for running the handlers locally). */
  lakeRoot: string;
  /** Traces younger than this wait for the next run: X-Ray is still receiving their segments. */
  lagMinutes: number;
  /** Late data: traces updated in the last N hours are re-scanned by update time. */
  revisitHours: number;
  /** Where a lake with no checkpoint starts: this many hours before now. */
  initialLookbackHours: number;
  /**
   * Hours a scheduled run checks and mends at most (lib/export/heal.ts): each hour once, when no scheduled
   * pass writes to it any more; 0 turns it off.
   */
  healHours: number;
  shards: number;
  maxConcurrency: number;
  /** SSE-KMS key for lake objects; the bucket default applies when absent. */
  kmsKeyId?: string;
  /** The backfill queue (planner → worker). */
  backfillQueueUrl?: string;
  /** An X-Ray endpoint override (xray-local); AWS X-Ray when absent. */
  xrayEndpoint?: string;
  /** Redaction rules applied to every row before it is written (lib/lake/redact.ts). */
  redact?: string;
}

/** Environment variables, by config field: the handlers' contract with infra/. */
export const EXPORT_ENV = {
  lakeRoot: 'LAKE_ROOT',
  lagMinutes: 'EXPORT_LAG_MINUTES',
  revisitHours: 'EXPORT_REVISIT_HOURS',
  initialLookbackHours: 'EXPORT_INITIAL_LOOKBACK_HOURS',
  healHours: 'EXPORT_HEAL_HOURS',
  shards: 'LAKE_SHARDS',
  maxConcurrency: 'EXPORT_MAX_CONCURRENCY',
  kmsKeyId: 'LAKE_KMS_KEY_ID',
  backfillQueueUrl: 'BACKFILL_QUEUE_URL',
  xrayEndpoint: 'XRAY_ENDPOINT',
  redact: 'LAKE_REDACT',
} as const;

/**
 * Reads and checks the exporter's configuration from an environment (the handler passes process.env);
 * a bad value throws {@link ExportConfigError} naming the variable.
 */
export function exportConfigFromEnv(env: Record<string, string | undefined>): ExportConfig {
  const lakeRoot = env[EXPORT_ENV.lakeRoot];
  if (!lakeRoot) throw new ExportConfigError(EXPORT_ENV.lakeRoot, 'required: s3://bucket/prefix of the lake');
  const root = parseLakeRoot(lakeRoot);
  if (root.kind === 's3' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(root.bucket))
    throw new ExportConfigError(EXPORT_ENV.lakeRoot, `"${root.bucket}" is not a valid S3 bucket name`);
  const number = (
    field: keyof typeof EXPORT_ENV,
    fallback: number,
    min: number,
    max: number,
    integer = true,
  ) => {
    const name = EXPORT_ENV[field];
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const checked = checkNumber(raw, { min, max, integer });
    if ('problem' in checked) throw new ExportConfigError(name, checked.problem);
    return checked.value;
  };
  const config: ExportConfig = {
    lakeRoot,
    lagMinutes: number('lagMinutes', 5, 0, 1440, false),
    revisitHours: number('revisitHours', 6, 0, 720, false),
    initialLookbackHours: number('initialLookbackHours', 1, 0, 720, false),
    healHours: number('healHours', 2, 0, 24),
    shards: number('shards', 1, 1, 1024),
    maxConcurrency: number('maxConcurrency', 8, 1, 64),
  };
  const optional = ['kmsKeyId', 'backfillQueueUrl', 'xrayEndpoint', 'redact'] as const;
  for (const field of optional) {
    const value = env[EXPORT_ENV[field]];
    if (value) config[field] = value;
  }
  if (config.xrayEndpoint && !/^https?:\/\//.test(config.xrayEndpoint))
    throw new ExportConfigError(
      EXPORT_ENV.xrayEndpoint,
      `expected an http(s) URL, got "${config.xrayEndpoint}"`,
    );
  if (config.redact) {
    try {
      parseRedaction(config.redact);
    } catch (error) {
      if (error instanceof RedactionRuleError) throw new ExportConfigError(EXPORT_ENV.redact, error.message);
      throw error;
    }
  }
  return config;
}
