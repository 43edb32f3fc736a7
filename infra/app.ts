/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs this file). Environment-agnostic, so it
 * synthesizes offline with no credentials; settings come from context (infra/config.ts, README "Deploying").
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackConfig } from './config.js';
import { XRayLakeStack } from './stack.js';

const app = new App();
const config = stackConfig((key) => app.node.tryGetContext(key));
new XRayLakeStack(app, (app.node.tryGetContext('stackName') as string | undefined) ?? 'XRayLake', config, {
  description:
    'xray-lake: X-Ray traces archived to Parquet on S3, queried with Athena, watched for anomalies',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
