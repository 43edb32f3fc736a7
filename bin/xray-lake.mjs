#!/usr/bin/env node
// The command runs the TypeScript sources directly through tsx, so a fresh clone needs no build step
// (npm 11 holds back install scripts, so nothing here may depend on a postinstall or prepare hook).
import { register } from 'tsx/esm/api';

// The lockfile pins SDK releases that support Node 20; their notice about later releases is not actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
