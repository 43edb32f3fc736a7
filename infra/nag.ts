import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const REASONS = {
  xray: [
    'AwsSolutions-IAM5[Resource::*]',
    'xray:GetTraceSummaries and xray:BatchGetTraces support no resource-level permissions (Service Authorization Reference, AWS X-Ray); the statement holds only those two actions.',
  ],
  lake: [
    'AwsSolutions-IAM5[Resource::<Lake5F1B88EA.Arn>/xray/*]',
    'The lake prefix: hour files are created under dt=/hour= partitions that cannot be listed in advance; scoped to the configured prefix of the lake bucket.',
  ],
  state: [
    'AwsSolutions-IAM5[Resource::<Lake5F1B88EA.Arn>/xray/_state/insights/*]',
    'Detection writes only its own state object(s) under _state/insights/.',
  ],
  results: [
    'AwsSolutions-IAM5[Resource::<AthenaResults99A60126.Arn>/results/*]',
    'Athena writes each query result under a new query-id key; scoped to the results/ prefix of the results bucket, which expires them.',
  ],
} as const;

/** Findings accepted on each of the stack's own functions' policies: exactly the wildcards it needs. */
const FUNCTION_POLICY_FINDINGS: Record<string, (keyof typeof REASONS)[]> = {
  'export-traces': ['xray', 'lake'],
  'backfill-worker': ['xray', 'lake'],
  'detect-anomalies': ['lake', 'state', 'results'],
  'create-views': ['results'],
  'backfill-planner': [],
};

/** Findings accepted on constructs CDK creates for its framework functions, with the reason. */
const FRAMEWORK_FINDINGS: Record<string, string> = {
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
    'CDK framework function (custom-resource provider / log-group resource policy): its role is created by aws-cdk-lib with the basic execution policy only.',
  'AwsSolutions-IAM5[Resource::*]':
    "logs:PutResourcePolicy / DeleteResourcePolicy (the events-to-log-group target's resource policy) support no resource-level permissions.",
  'AwsSolutions-IAM5[Resource::<Fncreateviews37717CFA.Arn>:*]':
    'The custom-resource provider invokes the views function and its versions (aws-cdk-lib custom_resources.Provider).',
  'AwsSolutions-L1':
    'CDK framework function: aws-cdk-lib picks its runtime; it runs only at deploy time and handles no trace data.',
};

const L1_REASON =
  'Node.js 22 on purpose: the code, its lockfile and its tests target Node 20/22 (the project standard); move to the next runtime with the SDK pins.';

/**
 * cdk-nag (AwsSolutions) findings this stack accepts, each acknowledged on the construct it concerns with
 * the reason. Anything not listed here fails synthesis.
 */
export function suppressStackFindings(stack: Stack): void {
  const acknowledge = (construct: IConstruct, findings: Record<string, string>) => {
    for (const [id, reason] of Object.entries(findings))
      Validations.of(construct).acknowledge({ id, reason });
  };
  for (const construct of stack.node.findAll()) {
    const path = construct.node.path;
    if (/\/Fn-[a-z-]+\/Resource$/.test(path)) acknowledge(construct, { 'AwsSolutions-L1': L1_REASON });
    const role = /\/Role-([a-z-]+)\/DefaultPolicy\/Resource$/.exec(path)?.[1];
    if (role)
      acknowledge(
        construct,
        Object.fromEntries((FUNCTION_POLICY_FINDINGS[role] ?? []).map((k) => REASONS[k])),
      );
    if (
      /\/(ViewsProvider\/framework-onEvent|AWS679f53fac002430cb0da5b7982bd2287|EventsLogGroupPolicy[^/]*)\//.test(
        path,
      )
    )
      acknowledge(construct, FRAMEWORK_FINDINGS);
  }
  Validations.of(stack.node.findChild('AccessLogs')).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'This is the access-log bucket the lake and results buckets log to; logging it to itself would loop.',
  });
  Validations.of(stack.node.findChild('BackfillDlq')).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of the backfill queue.',
  });
}
