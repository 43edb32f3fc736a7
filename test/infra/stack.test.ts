import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type StackConfig, StackConfigError, stackConfig } from '../../infra/config.js';
import { FUNCTIONS, XRayLakeStack } from '../../infra/stack.js';
import { EVENTS_SET_ASIDE_LOG } from '../../lib/insights/scheduled.js';
import { TABLES } from '../../lib/lake/schema.js';
import { viewsDigest } from '../../lib/query/create-views.js';
import { tableColumns } from '../../lib/query/ddl.js';
import { VIEWS } from '../../lib/query/views.js';
import { tempDirSync } from '../helpers/temp.js';

/** Synthesizes the stack offline; bundling is skipped (the bundle-size benchmark bundles for real). */
function synth(context: Record<string, unknown> = {}) {
  // An output folder of our own: left to itself the App makes a cdk.outXXXX in /tmp and never removes it.
  const app = new App({
    outdir: tempDirSync('cdk-out-'),
    context: { 'aws:cdk:bundling-stacks': [], ...context },
  });
  const config: StackConfig = stackConfig((key) => app.node.tryGetContext(key));
  const stack = new XRayLakeStack(app, 'XRayLake', config);
  return {
    app,
    stack,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the default policy of a function's role (`Role-NAME`). */
function statementsOf(template: Template, fn: string): Statement[] {
  const roleId = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
    id.startsWith(`Role${fn.replaceAll('-', '')}`),
  )!;
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const bySid = (statements: Statement[]) =>
  Object.fromEntries(statements.map((s) => [s.Sid ?? '?', [s.Action].flat().sort()]));

describe('the CDK stack', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synth());
  });

  it('keeps the lake encrypted, private, TLS-only, logged and tiered; results expire', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'lake/', DestinationBucketName: Match.anyValue() },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'xray/',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 180 },
            ],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'athena-results/' },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 7, Status: 'Enabled' })] },
    });
    const denyInsecure = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Effect: string; Condition?: unknown }[]).some(
        (s) =>
          s.Effect === 'Deny' && JSON.stringify(s.Condition) === '{"Bool":{"aws:SecureTransport":"false"}}',
      ),
    );
    expect(denyInsecure).toHaveLength(3); // lake, results, access logs
    template.resourcePropertiesCountIs(
      'AWS::S3::Bucket',
      { PublicAccessBlockConfiguration: Match.anyValue() },
      3,
    );
  });

  it('uses the given KMS key and an expiry when configured', () => {
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { template: withKey } = synth({ kmsKeyArn: arn, expireDays: '400' });
    withKey.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn },
            BucketKeyEnabled: true,
          },
        ],
      },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 400 })]) },
    });
    expect(bySid(statementsOf(withKey, FUNCTIONS.export)).LakeKey).toEqual([
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ]);
    expect(bySid(statementsOf(withKey, FUNCTIONS.detect)).LakeKey).toEqual(['kms:Decrypt']);
  });

  it('defines the Glue tables from the schema module, with partition projection', () => {
    for (const table of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
      template.hasResourceProperties('AWS::Glue::Table', {
        DatabaseName: 'xray_lake',
        TableInput: {
          Name: TABLES[table],
          TableType: 'EXTERNAL_TABLE',
          PartitionKeys: [
            { Name: 'dt', Type: 'string' },
            { Name: 'hour', Type: 'string' },
          ],
          Parameters: Match.objectLike({
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.hour.range': '0,23',
            'storage.location.template': Match.anyValue(),
          }),
          StorageDescriptor: Match.objectLike({
            Columns: tableColumns(table).map((c) => ({ Name: c.name, Type: c.type })),
            SerdeInfo: {
              SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            },
          }),
        },
      });
    }
  });

  it('enforces an Athena workgroup on engine 3 with encrypted results and a scan cutoff', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'xray-lake',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          OutputLocation: Match.anyValue(),
        },
      },
    });
  });

  it('creates the views through a custom resource that changes when the SQL does', () => {
    template.hasResourceProperties('Custom::XRayLakeViews', { Sql: viewsDigest(), Database: 'xray_lake' });
  });

  it('runs five functions on Node 22 / arm64, the exporter and detection on 5-minute schedules', () => {
    template.resourceCountIs('AWS::Lambda::Function', 5 + 2); // + the CDK provider and log-policy functions
    for (const name of Object.values(FUNCTIONS))
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('^xray-lake: '),
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Role: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^Role${name.replaceAll('-', '')}`), 'Arn'] },
      });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('checkpoint'),
      ReservedConcurrentExecutions: 1,
      Environment: {
        Variables: Match.objectLike({ LAKE_ROOT: Match.anyValue(), POWERTOOLS_SERVICE_NAME: 'xray-lake' }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('insights'),
      Environment: {
        Variables: Match.objectLike({
          INSIGHT_SINK: Match.anyValue(),
          ATHENA_WORKGROUP: 'xray-lake',
          ATHENA_DATABASE: 'xray_lake',
          LAKE_ROOT: Match.anyValue(),
        }),
      },
    });
    const rates = Object.values(template.findResources('AWS::Events::Rule')).map(
      (r) => r.Properties.ScheduleExpression,
    );
    expect(rates.filter((r) => r === 'rate(5 minutes)')).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
  });

  it('grants each function exactly the actions its code calls', () => {
    expect(bySid(statementsOf(template, FUNCTIONS.export))).toEqual({
      ReadXRayTraces: ['xray:BatchGetTraces', 'xray:GetTraceSummaries'],
      ListLake: ['s3:ListBucket'],
      ReadWriteLake: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
    });
    expect(bySid(statementsOf(template, FUNCTIONS.worker))).toMatchObject({
      ReadXRayTraces: ['xray:BatchGetTraces', 'xray:GetTraceSummaries'],
      ReadWriteLake: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:GetObject', 's3:PutObject'],
      EnqueueBackfill: ['sqs:SendMessage'],
    });
    expect(bySid(statementsOf(template, FUNCTIONS.planner))).toEqual({
      EnqueueBackfill: ['sqs:SendMessage'],
    });
    expect(bySid(statementsOf(template, FUNCTIONS.detect))).toEqual({
      ListLake: ['s3:ListBucket'],
      ReadLake: ['s3:GetObject'],
      WriteDetectorState: ['s3:PutObject'],
      RunQueries: [
        'athena:GetQueryExecution',
        'athena:GetQueryResults',
        'athena:StartQueryExecution',
        'athena:StopQueryExecution',
      ],
      ReadCatalog: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables'],
      QueryResults: [
        's3:AbortMultipartUpload',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:ListBucket',
        's3:PutObject',
      ],
      PublishInsights: ['events:PutEvents'],
    });
    expect(bySid(statementsOf(template, FUNCTIONS.views)).ManageViews).toEqual([
      'glue:CreateTable',
      'glue:DeleteTable',
      'glue:GetDatabase',
      'glue:GetTable',
      'glue:GetTables',
      'glue:UpdateTable',
    ]);
    const detect = statementsOf(template, FUNCTIONS.detect);
    const resources = (sid: string) => JSON.stringify(detect.find((s) => s.Sid === sid)!.Resource);
    expect(resources('PublishInsights')).toContain('InsightBus');
    expect(resources('RunQueries')).toContain(':workgroup/xray-lake');
    for (const table of [...Object.values(TABLES), ...VIEWS])
      expect(resources('ReadCatalog')).toContain(`table/xray_lake/${table}"`);
    expect(resources('WriteDetectorState')).toContain('/xray/_state/insights/*');
    const everything = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(everything).not.toMatch(/"Action":"[a-z0-9]+:\*"|"s3:\*"|"Action":"\*"/);
  });

  it('reserves no concurrency when told to, for accounts at the new-account quota', () => {
    const reserved = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function')).filter(
        (f) => f.Properties.ReservedConcurrentExecutions !== undefined,
      ).length;
    expect(reserved(template)).toBe(2);
    expect(reserved(synth({ reserveConcurrency: 'false' }).template)).toBe(0);
  });

  it('hands detection threshold overrides to the detect function, and nothing by default', () => {
    const environment = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function')).map(
        (f) => (f.Properties.Environment?.Variables ?? {}) as Record<string, unknown>,
      );
    expect(environment(template).some((v) => 'DETECT_THRESHOLDS' in v)).toBe(false);
    const set = environment(synth({ detectThresholds: 'latencyAlpha=0.001' }).template).filter(
      (v) => 'DETECT_THRESHOLDS' in v,
    );
    expect(set).toEqual([
      expect.objectContaining({ DETECT_THRESHOLDS: 'latencyAlpha=0.001', INSIGHT_SINK: expect.anything() }),
    ]);
  });

  it("sizes the detect function's memory from context, 1,024 MB by default", () => {
    const detectMemory = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .filter((f) => f.Properties.Description === 'xray-lake: Judges new buckets and publishes insights')
        .map((f) => f.Properties.MemorySize);
    expect(detectMemory(template)).toEqual([1024]);
    expect(detectMemory(synth({ detectMemoryMB: '3008' }).template)).toEqual([3008]);
  });

  it("sizes the exporter's and the backfill worker's memory (their CPU) from context, 1,024 MB by default", () => {
    const exportMemory = (t: Template) =>
      Object.values(t.findResources('AWS::Lambda::Function'))
        .filter((f) => /Exports (traces|backfill)/.test(String(f.Properties.Description)))
        .map((f) => f.Properties.MemorySize);
    expect(exportMemory(template)).toEqual([1024, 1024]);
    expect(exportMemory(synth({ exportMemoryMB: '1769' }).template)).toEqual([1769, 1769]);
  });

  it('has an insight bus with an example rule, a dashboard and the alarms', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'xray-lake-insights' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['xray-lake'], 'detail-type': ['Trace Insight Update'] },
      EventBusName: Match.anyValue(),
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as { AlarmDescription: string; MetricName?: string; Threshold: number },
    );
    expect(alarms.map((a) => a.AlarmDescription).sort()).toEqual([
      'Anomaly detection failed twice in a row',
      'Backfill windows failed three times and wait in the dead-letter queue',
      'Lake hours hold problems the scheduled mending could not fix: xray-lake verify lists them',
      'The insight bus refused events, kept in _state/insights/rejected/ instead',
      'The lake is more than 30 minutes behind X-Ray',
      "The lake's scheduled mending failed in two runs in a row (its log line says why)",
      'The scheduled export failed twice in a row',
      'Traces X-Ray never returned were given up at its 30 days: they are not in the lake',
    ]);
    expect(alarms.find((a) => a.MetricName === 'ExportLag')!.Threshold).toBe(1800);
    expect(alarms.find((a) => a.MetricName === 'TracesGivenUp')!.Threshold).toBe(0);
    // Published by the export's mending (lib/export/scheduled.ts recordHeal) under this name.
    expect(alarms.find((a) => a.MetricName === 'LakeProblemsLeft')!.Threshold).toBe(0);
    // A failed mending is counted apart from a failed export (lib/export/scheduled.ts), two runs in a row.
    expect(alarms.find((a) => a.MetricName === 'LakeMendingFailed')).toMatchObject({
      Threshold: 1,
      EvaluationPeriods: 2,
    });
    // Counted from detection's log line for events set aside, the one the code writes.
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: `{ $.message = "${EVENTS_SET_ASIDE_LOG}" }`,
      MetricTransformations: [
        Match.objectLike({
          MetricName: 'InsightEventsSetAside',
          MetricNamespace: 'XRayLake',
          MetricValue: '1',
        }),
      ],
    });
    expect(alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')!.Threshold).toBe(0);
  });

  it('passes cdk-nag AwsSolutions with every accepted finding acknowledged with a reason', () => {
    const { app } = synth();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  it('cdk-nag does fail a stack that breaks a rule (the check above is live)', () => {
    const { app, stack } = synth();
    new Bucket(stack, 'Careless'); // no TLS policy, no access logs
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions/);
  });
});

describe('stackConfig', () => {
  it.each([
    [{ kmsKeyArn: 'alias/mine' }, /^context "kmsKeyArn": "alias\/mine" does not match/],
    [
      { exportScheduleMinutes: '0' },
      /^context "exportScheduleMinutes": expected a whole number from 1 to 60/,
    ],
    [{ expireDays: '100' }, /^context "expireDays": must be after glacierInstantRetrievalDays \(180\)/],
    [{ database: 'Bad-Name' }, /^context "database"/],
    [{ reserveConcurrency: 'maybe' }, /^context "reserveConcurrency": expected true or false/],
    [{ detectMemoryMB: '64' }, /^context "detectMemoryMB": expected a whole number from 128 to 10240/],
    [{ exportMemoryMB: '20000' }, /^context "exportMemoryMB": expected a whole number from 128 to 10240/],
    [{ detectThresholds: 'openAfter=0' }, /^context "detectThresholds": openAfter: expected a whole number/],
  ])('names the context key that is wrong: %o', (context, message) => {
    const read = (key: string) => (context as Record<string, unknown>)[key];
    expect(() => stackConfig(read)).toThrow(StackConfigError);
    expect(() => stackConfig(read)).toThrow(message);
  });
});
