/** The bounds a configured number must keep. */
export interface NumberBounds {
  min?: number;
  max?: number;
  integer?: boolean;
}

/**
 * Checks a configured number (a command-line flag, an environment variable, a CDK context value): the
 * number, or the problem in the words every configuration error of the project uses, for the caller to
 * put after the name of what it read ("expected a whole number from 1 to 30, got \"0\"").
 */
export function checkNumber(
  raw: string | number,
  bounds: NumberBounds,
): { value: number } | { problem: string } {
  const value = Number(raw);
  const ok =
    String(raw).trim() !== '' &&
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max);
  if (ok) return { value };
  const kind = bounds.integer ? 'a whole number' : 'a number';
  const range =
    bounds.min !== undefined && bounds.max !== undefined
      ? ` from ${bounds.min} to ${bounds.max}`
      : bounds.min !== undefined
        ? ` of at least ${bounds.min}`
        : '';
  return { problem: `expected ${kind}${range}, got "${String(raw)}"` };
}
