import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { detectConfigFromEnv } from '../lib/insights/config.js';
import { runScheduledDetect } from '../lib/insights/scheduled.js';
import { detectDeps } from './clients.js';
import { logger } from './observability.js';

const config = detectConfigFromEnv(process.env); // once, at cold start; throws naming the variable
const deps = detectDeps(config);

/** Scheduled (EventBridge, every 5 minutes): judge the buckets since the last run, publish insights. */
export const handler = middy(async () => {
  const engine = await deps.engine();
  try {
    return await runScheduledDetect(
      { ...deps, engine, log: (message, fields) => logger.info(message, fields) },
      config,
    );
  } finally {
    await engine.close();
  }
}).use(injectLambdaContext(logger));
