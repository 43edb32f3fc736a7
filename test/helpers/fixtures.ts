import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `../shared/` beside the checkout holds fixtures and benchmarks nobody on this team wrote. Tests read them
 * in place; a missing folder is a failure with a message, never a skip.
 */
export function sharedPath(...parts: string[]): string {
  const path = join(repoRoot, '..', 'shared', ...parts);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: tests read the shared fixtures from ../shared beside the checkout`);
  }
  return path;
}

/** Every file of a fixture folder, as [name, text]. */
export function fixtureFiles(...folder: string[]): [string, string][] {
  const dir = sharedPath('fixtures', 'xray', ...folder);
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort()
    .map((name) => [name, readFileSync(join(dir, name), 'utf8')]);
}

/** One fixture file's text. */
export function fixture(...path: string[]): string {
  return readFileSync(sharedPath('fixtures', 'xray', ...path), 'utf8');
}
