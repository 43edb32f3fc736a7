import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { exportConfigFromEnv } from '../lib/export/config.js';
import { parseBackfillWindow, runBackfillWindow } from '../lib/export/scheduled.js';
import { exportDeps } from './clients.js';
import { logger, metrics } from './observability.js';

const config = exportConfigFromEnv(process.env);
const deps = exportDeps(config);

/**
 * SQS (batch size 1 to a few): exports each window; failed ones go back to the queue, then to the DLQ. A
 * window cut short by the deadline continues in a new message (see runBackfillWindow).
 */
export const handler = middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const deadline = Date.now() + context.getRemainingTimeInMillis();
  for (const record of event.Records) {
    try {
      await runBackfillWindow(config, parseBackfillWindow(record.body), {
        ...deps,
        logger,
        metrics,
        deadline,
      });
    } catch (error) {
      logger.error('backfill window failed', { messageId: record.messageId, error: error as Error });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
