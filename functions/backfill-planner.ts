import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { exportConfigFromEnv } from '../lib/export/config.js';
import { ExportConfigError } from '../lib/export/errors.js';
import { planBackfill } from '../lib/export/scheduled.js';
import { logger } from './observability.js';

const config = exportConfigFromEnv(process.env);

/** Invoked by hand or by a rule: `{"from": ISO, "to": ISO}` (e.g. the last 30 days) → hour windows on SQS. */
export const handler = middy(async (event: { from?: string; to?: string }) => {
  const from = Date.parse(event.from ?? '');
  const to = Date.parse(event.to ?? '');
  if (Number.isNaN(from) || Number.isNaN(to) || to <= from)
    throw new ExportConfigError('event', 'expected {"from": ISO, "to": ISO} with to after from');
  const planned = await planBackfill({ from: from / 1000, to: to / 1000 }, config.backfillQueueUrl);
  logger.info('backfill planned', { ...planned, from: event.from, to: event.to });
  return planned;
}).use(injectLambdaContext(logger));
