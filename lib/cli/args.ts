import { checkNumber } from '../bounded-number.js';
import { UsageError } from './errors.js';

/** How one flag is read. `requires`: another flag without which this one means nothing (refused alone). */
export type FlagSpec = (
  | { type: 'string'; description: string; required?: boolean; default?: string; placeholder?: string }
  | {
      type: 'number';
      description: string;
      required?: boolean;
      default?: number;
      min?: number;
      max?: number;
      integer?: boolean;
      placeholder?: string;
    }
  | { type: 'time'; description: string; required?: boolean; default?: string; placeholder?: string }
  | { type: 'boolean'; description: string }
) & { requires?: string };

export type FlagSpecs = Record<string, FlagSpec>;

type Value<S extends FlagSpec> = S extends { type: 'boolean' }
  ? boolean
  : S extends { type: 'number' } | { type: 'time' }
    ? number
    : string;
export type Flags<S extends FlagSpecs> = { [K in keyof S]: Value<S[K]> | undefined };

const RELATIVE_TIME = /^now(?:([+-])(\d+(?:\.\d+)?)([smhd]))?$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Reads `--name value` and `--name=value` flags against their specs. Unknown flags, missing values, and
 * values of the wrong type fail with a {@link UsageError} naming the flag and what it takes.
 */
export function parseFlags<S extends FlagSpecs>(
  command: string,
  argv: readonly string[],
  specs: S,
): Flags<S> {
  const raw = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new UsageError(`unexpected argument "${arg}" (flags start with --)`, command);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs)
        .map((flag) => `--${flag}`)
        .join(', ');
      throw new UsageError(`unknown flag --${name} (${command} takes ${known || 'no flags'})`, command);
    }
    if (spec.type === 'boolean') {
      raw.set(name, true);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--')))
      throw new UsageError(`--${name} needs a value: ${spec.placeholder ?? spec.type}`, command);
    raw.set(name, value);
  }

  for (const name of raw.keys()) {
    const requires = specs[name]!.requires;
    // Silently ignored, it would leave the user believing it took effect.
    if (requires !== undefined && !raw.has(requires))
      throw new UsageError(
        `--${name} is only read with --${requires}; without it the flag would be ignored`,
        command,
      );
  }
  const flags: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const given = raw.get(name);
    if (spec.type === 'boolean') {
      flags[name] = given === true;
      continue;
    }
    const text = given === undefined ? spec.default : String(given);
    if (text === undefined) {
      if (spec.required) throw new UsageError(`--${name} is required: ${spec.description}`, command);
      flags[name] = undefined;
      continue;
    }
    if (spec.type === 'string') flags[name] = text;
    else if (spec.type === 'time') flags[name] = parseTime(String(text), `--${name}`);
    else flags[name] = parseNumber(String(text), `--${name}`, spec);
  }
  return flags as Flags<S>;
}

function parseNumber(text: string, flag: string, spec: Extract<FlagSpec, { type: 'number' }>): number {
  const checked = checkNumber(text, spec);
  if ('problem' in checked) throw new UsageError(`${flag}: ${checked.problem}`);
  return checked.value;
}

/**
 * A time flag: an ISO 8601 instant (`2026-11-20T10:00:00Z`, `2026-11-20`), or `now`, `now-7d`, `now+30m`.
 * Returns epoch seconds.
 */
export function parseTime(text: string, flag: string, now = Date.now() / 1000): number {
  const relative = RELATIVE_TIME.exec(text.trim());
  if (relative) {
    const [, sign, amount, unit] = relative;
    if (!sign) return now;
    const offset = Number(amount) * UNIT_SECONDS[unit!]!;
    return sign === '-' ? now - offset : now + offset;
  }
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms))
    throw new UsageError(`${flag}: expected an ISO time (2026-11-20T10:00:00Z) or now-7d, got "${text}"`);
  return ms / 1000;
}

/** The help text of a command's flags. */
export function describeFlags(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, spec]) => {
      const value = spec.type === 'boolean' ? '' : ` ${spec.placeholder ?? spec.type.toUpperCase()}`;
      const extra =
        'default' in spec && spec.default !== undefined
          ? ` (default ${spec.default})`
          : 'required' in spec && spec.required
            ? ' (required)'
            : '';
      return `  --${name}${value}`.padEnd(30) + `${spec.description}${extra}`;
    })
    .join('\n');
}
