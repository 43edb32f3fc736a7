import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { exportConfigFromEnv } from '../lib/export/config.js';
import { runScheduledExport } from '../lib/export/scheduled.js';
import { exportDeps } from './clients.js';
import { logger, metrics } from './observability.js';

const config = exportConfigFromEnv(process.env); // once, at cold start; throws naming the variable
const deps = exportDeps(config);

/** Scheduled (EventBridge, every 5 minutes): export from the checkpoint to the live edge. */
export const handler = middy(async (_event: unknown, context: Context) => {
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  return runScheduledExport(config, { ...deps, logger, metrics, deadline });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
