import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AthenaClient } from '@aws-sdk/client-athena';
import middy from '@middy/core';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { createViews, dropViews } from '../lib/query/create-views.js';
import { AthenaEngine } from '../lib/query/athena-engine.js';
import { athenaConfigFromEnv } from '../lib/query/config.js';
import { logger } from './observability.js';

const athena = athenaConfigFromEnv(process.env); // once, at cold start; throws naming the variable
const engine = new AthenaEngine(athena, new AthenaClient({}));

/**
 * The views custom resource (CDK Provider framework): creates or replaces the views on Create and Update
 * (the resource's properties carry a digest of the SQL, so an SQL change is an Update), drops them on Delete.
 */
export const handler = middy(async (event: CloudFormationCustomResourceEvent) => {
  const id = `views:${athena.database}`;
  if (event.RequestType === 'Delete') {
    await dropViews(engine);
    return { PhysicalResourceId: id };
  }
  const views = await createViews(engine);
  logger.info('views created', { views });
  return { PhysicalResourceId: id, Data: { Views: views.join(',') } };
}).use(injectLambdaContext(logger));
