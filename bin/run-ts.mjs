#!/usr/bin/env node
import { resolve } from 'node:path';
// Runs a TypeScript entry point (benchmarks, scripts) through tsx: `node bin/run-ts.mjs bench/x.ts args...`.
import { pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

// The lockfile pins SDK releases that support Node 20; their notice about later releases is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bin/run-ts.mjs FILE.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
