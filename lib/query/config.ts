import { QueryError } from './errors.js';

/** A bad Athena setting in a handler's environment, naming the variable. */
export class AthenaConfigError extends QueryError {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

/** The stack's workgroup and Glue database: the default of every flag, variable and context key naming them. */
export const ATHENA_DEFAULTS = { workgroup: 'xray-lake', database: 'xray_lake' } as const;

/** The names Athena (workgroups) and Glue (databases) accept. */
export const ATHENA_NAME_PATTERNS = {
  workgroup: /^[A-Za-z0-9._-]{1,128}$/,
  database: /^[a-z0-9_]{1,255}$/,
} as const;

/** Environment variables of the Athena settings, shared by the detect and views handlers. */
export const ATHENA_ENV = { workgroup: 'ATHENA_WORKGROUP', database: 'ATHENA_DATABASE' } as const;

/**
 * The Athena workgroup and Glue database from an environment (defaults `xray-lake` / `xray_lake`, the
 * stack's); a name Athena or Glue would refuse throws {@link AthenaConfigError} naming the variable.
 */
export function athenaConfigFromEnv(env: Record<string, string | undefined>): {
  workgroup: string;
  database: string;
} {
  const workgroup = env[ATHENA_ENV.workgroup] || ATHENA_DEFAULTS.workgroup;
  if (!ATHENA_NAME_PATTERNS.workgroup.test(workgroup))
    throw new AthenaConfigError(ATHENA_ENV.workgroup, `"${workgroup}" is not a valid workgroup name`);
  const database = env[ATHENA_ENV.database] || ATHENA_DEFAULTS.database;
  if (!ATHENA_NAME_PATTERNS.database.test(database))
    throw new AthenaConfigError(ATHENA_ENV.database, `"${database}" is not a valid Glue database name`);
  return { workgroup, database };
}
