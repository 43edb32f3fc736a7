import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Aws,
  CfnOutput,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_athena as athena,
  aws_cloudwatch as cloudwatch,
  aws_events as events,
  aws_events_targets as targets,
  aws_glue as glue,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_lambda_event_sources as sources,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
  aws_s3 as s3,
  aws_sqs as sqs,
  custom_resources as cr,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EXPORT_ENV } from '../lib/export/config.js';
import { DETECT_ENV } from '../lib/insights/config.js';
import { ATHENA_ENV } from '../lib/query/config.js';
import { METRICS_NAMESPACE } from '../lib/insights/metrics.js';
import { INSIGHT_DETAIL_TYPE, INSIGHT_SOURCE } from '../lib/insights/events.js';
import { EVENTS_SET_ASIDE_LOG } from '../lib/insights/scheduled.js';
import { viewsDigest } from '../lib/query/create-views.js';
import { glueTableInput } from '../lib/query/ddl.js';
import { VIEWS } from '../lib/query/views.js';
import { TABLES } from '../lib/lake/schema.js';
import type { StackConfig } from './config.js';
import { suppressStackFindings } from './nag.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The functions' names, also their entry files under functions/. */
export const FUNCTIONS = {
  export: 'export-traces',
  planner: 'backfill-planner',
  worker: 'backfill-worker',
  detect: 'detect-anomalies',
  views: 'create-views',
} as const;

type LakeAccess = 'read' | 'read-write';

/**
 * xray-lake on AWS: the lake bucket, Glue tables with partition projection and an Athena workgroup, the
 * views (a custom resource running the same SQL through the AthenaEngine), the exporter on a schedule with
 * its SQS backfill, detection on a schedule publishing to an EventBridge bus, a dashboard and alarms.
 *
 * Every function's environment variable is set together with the permission it needs, in one of the
 * `use*` methods below, so a variable never comes without its grant or a grant without its use.
 */
export class XRayLakeStack extends Stack {
  readonly lakeBucket: s3.Bucket;
  readonly resultsBucket: s3.Bucket;
  readonly bus: events.EventBus;
  readonly functions: Record<keyof typeof FUNCTIONS, nodejs.NodejsFunction>;
  private readonly lakeKey?: kms.IKey;
  private readonly lakeRoot: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly config: StackConfig,
    props?: StackProps,
  ) {
    super(scope, id, props);
    const logBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (config.kmsKeyArn) this.lakeKey = kms.Key.fromKeyArn(this, 'LakeKey', config.kmsKeyArn);
    this.lakeBucket = new s3.Bucket(this, 'Lake', {
      ...(this.lakeKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.lakeKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 'lake/',
      // Trace data outlives the stack: deleting the stack must not delete the archive.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'tiering',
          prefix: `${config.lakePrefix}/`,
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(config.infrequentAccessDays),
            },
            {
              storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
              transitionAfter: Duration.days(config.glacierInstantRetrievalDays),
            },
          ],
          ...(config.expireDays !== undefined && { expiration: Duration.days(config.expireDays) }),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    this.resultsBucket = new s3.Bucket(this, 'AthenaResults', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: logBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [{ expiration: Duration.days(config.resultsExpireDays) }],
      // Retained: a bucket that still holds results would fail the stack's deletion; they expire anyway.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.lakeRoot = `s3://${this.lakeBucket.bucketName}/${config.lakePrefix}`;

    // Glue tables from the schema module, the same source as athenaTableDdl and the Parquet writer.
    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: config.database, description: 'xray-lake: archived X-Ray traces' },
    });
    for (const table of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
      const cfn = new glue.CfnTable(this, `Table-${table}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: config.database,
        tableInput: glueTableInput(table, this.lakeRoot),
      });
      cfn.addResourceDependency(database);
    }
    const workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: config.workgroup,
      description: 'xray-lake queries: results encrypted, scans capped',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: config.bytesScannedCutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/results/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    this.bus = new events.EventBus(this, 'InsightBus', { eventBusName: config.busName });
    const insightLog = new logs.LogGroup(this, 'InsightLog', {
      logGroupName: `/xray-lake/${config.busName}`,
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An example subscription: every insight into a log group. Point your own rules at the same pattern.
    new events.Rule(this, 'InsightsToLog', {
      eventBus: this.bus,
      description: 'Example: every xray-lake insight into a log group',
      eventPattern: { source: [INSIGHT_SOURCE], detailType: [INSIGHT_DETAIL_TYPE] },
      targets: [new targets.CloudWatchLogGroup(insightLog)],
    });

    const dlq = new sqs.Queue(this, 'BackfillDlq', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const queue = new sqs.Queue(this, 'BackfillQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Longer than the worker's timeout, so a window in progress is not handed to a second worker.
      visibilityTimeout: Duration.minutes(16),
      deadLetterQueue: { queue: dlq, maxReceiveCount: 3 },
    });

    const exporter = this.function(FUNCTIONS.export, 'Exports traces from the checkpoint to the live edge', {
      timeout: Duration.minutes(10),
      memorySize: config.exportMemoryMB,
      // One scheduled exporter at a time (the lease makes a second one wait anyway).
      ...(config.reserveConcurrency && { reservedConcurrentExecutions: 1 }),
    });
    const planner = this.function(FUNCTIONS.planner, 'Plans a backfill as hour windows on SQS', {
      timeout: Duration.minutes(5),
      memorySize: 256,
    });
    const worker = this.function(FUNCTIONS.worker, 'Exports backfill windows from SQS', {
      timeout: Duration.minutes(15),
      memorySize: config.exportMemoryMB,
    });
    const detect = this.function(FUNCTIONS.detect, 'Judges new buckets and publishes insights', {
      timeout: Duration.minutes(5),
      memorySize: config.detectMemoryMB,
      ...(config.reserveConcurrency && { reservedConcurrentExecutions: 1 }),
    });
    const views = this.function(FUNCTIONS.views, 'Creates the Athena views (custom resource)', {
      timeout: Duration.minutes(10),
      memorySize: 256,
    });
    this.functions = { export: exporter, planner, worker, detect, views };

    for (const fn of [exporter, worker]) {
      this.useXRay(fn);
      this.useLake(fn, 'read-write');
      if (config.redact) fn.addEnvironment(EXPORT_ENV.redact, config.redact);
    }
    planner.addEnvironment(EXPORT_ENV.lakeRoot, this.lakeRoot); // config only: the planner never touches the lake
    this.useBackfillQueue(planner, queue);
    // The worker too: a window cut short by its deadline continues as a new message for the rest.
    this.useBackfillQueue(worker, queue);
    worker.addEventSource(
      new sources.SqsEventSource(queue, {
        batchSize: 1,
        reportBatchItemFailures: true,
        // Bounded: each worker runs BatchGetTraces at up to EXPORT_MAX_CONCURRENCY; X-Ray's read quota is shared.
        maxConcurrency: config.backfillConcurrency,
      }),
    );
    this.useLake(detect, 'read');
    this.useDetectorState(detect);
    this.useAthena(detect, workgroup, 'read');
    this.useBus(detect);
    // Configuration only (no grant goes with it): the thresholds were checked when the config was read.
    if (config.detectThresholds) detect.addEnvironment(DETECT_ENV.thresholds, config.detectThresholds);
    this.useAthena(views, workgroup, 'create-views');

    new events.Rule(this, 'ExportSchedule', {
      description: 'xray-lake export to the live edge',
      schedule: events.Schedule.rate(Duration.minutes(config.exportScheduleMinutes)),
      targets: [new targets.LambdaFunction(exporter, { retryAttempts: 0 })],
    });
    new events.Rule(this, 'DetectSchedule', {
      description: 'xray-lake anomaly detection',
      schedule: events.Schedule.rate(Duration.minutes(config.detectScheduleMinutes)),
      targets: [new targets.LambdaFunction(detect, { retryAttempts: 0 })],
    });

    const provider = new cr.Provider(this, 'ViewsProvider', {
      onEventHandler: views,
      logGroup: new logs.LogGroup(this, 'ViewsProviderLog', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    const viewsResource = new CustomResource(this, 'Views', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::XRayLakeViews',
      // The digest makes an SQL change an Update, which re-creates the views.
      properties: { Sql: viewsDigest(), Database: config.database, WorkGroup: config.workgroup },
    });
    viewsResource.node.addDependency(workgroup);
    for (const child of this.node.children)
      if (child instanceof glue.CfnTable) viewsResource.node.addDependency(child);

    this.dashboardAndAlarms(exporter, detect, dlq);
    new CfnOutput(this, 'LakeRoot', { value: this.lakeRoot, description: 'The lake: --lake for xray-lake' });
    new CfnOutput(this, 'BackfillPlanner', {
      value: planner.functionName,
      description: 'Invoke with {"from": ISO, "to": ISO} to backfill',
    });
    new CfnOutput(this, 'InsightBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'AthenaWorkGroup', { value: config.workgroup });
    suppressStackFindings(this);
  }

  /** A function bundled by the local esbuild from functions/NAME.ts: Node 22 on arm64, Powertools settings. */
  private function(
    name: string,
    description: string,
    options: Pick<nodejs.NodejsFunctionProps, 'timeout' | 'memorySize' | 'reservedConcurrentExecutions'>,
  ): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `Log-${name}`, {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role, allowed to write its own log group only (instead of AWSLambdaBasicExecutionRole's logs:* on *).
    const role = new iam.Role(this, `Role-${name}`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `xray-lake ${name}`,
      inlinePolicies: {
        logs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [logGroup.logGroupArn],
            }),
          ],
        }),
      },
    });
    const fn = new nodejs.NodejsFunction(this, `Fn-${name}`, {
      role,
      entry: join(ROOT, 'functions', `${name}.ts`),
      handler: 'handler',
      description: `xray-lake: ${description}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'xray-lake',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      tracing: lambda.Tracing.DISABLED,
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        forceDockerBundling: false,
        // DuckDB is only for folder lakes (local runs); it is a native module and not in the bundle.
        externalModules: ['@duckdb/node-api', '@duckdb/node-bindings'],
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The view SQL is read next to the bundle (lib/query/views.ts resolves ./sql/ from the module).
          afterBundling: (inputDir: string, outputDir: string) =>
            name === FUNCTIONS.views
              ? [`mkdir -p "${outputDir}/sql"`, `cp "${inputDir}"/lib/query/sql/*.sql "${outputDir}/sql/"`]
              : [],
        },
      },
      ...options,
    });
    return fn;
  }

  private useXRay(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadXRayTraces',
        actions: ['xray:GetTraceSummaries', 'xray:BatchGetTraces'],
        // X-Ray's read actions support no resource-level permissions.
        resources: ['*'],
      }),
    );
  }

  private useLake(fn: lambda.Function, access: LakeAccess): void {
    fn.addEnvironment(EXPORT_ENV.lakeRoot, this.lakeRoot);
    const prefix = this.config.lakePrefix;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListLake',
        actions: ['s3:ListBucket'],
        resources: [this.lakeBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, prefix] } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: access === 'read' ? 'ReadLake' : 'ReadWriteLake',
        actions:
          access === 'read'
            ? ['s3:GetObject']
            : ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [this.lakeBucket.arnForObjects(`${prefix}/*`)],
      }),
    );
    if (this.lakeKey) {
      fn.addEnvironment(EXPORT_ENV.kmsKeyId, this.lakeKey.keyArn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'LakeKey',
          actions: access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [this.lakeKey.keyArn],
        }),
      );
    }
  }

  /** Detection writes only its own state under the lake's `_state/insights/`. */
  private useDetectorState(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteDetectorState',
        actions: ['s3:PutObject'],
        resources: [this.lakeBucket.arnForObjects(`${this.config.lakePrefix}/_state/insights/*`)],
      }),
    );
    if (this.lakeKey)
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DetectorStateKey',
          actions: ['kms:GenerateDataKey'],
          resources: [this.lakeKey.keyArn],
        }),
      );
  }

  private useBackfillQueue(fn: lambda.Function, queue: sqs.Queue): void {
    fn.addEnvironment(EXPORT_ENV.backfillQueueUrl, queue.queueUrl);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'EnqueueBackfill',
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
      }),
    );
  }

  private useAthena(
    fn: lambda.Function,
    workgroup: athena.CfnWorkGroup,
    mode: 'read' | 'create-views',
  ): void {
    fn.addEnvironment(ATHENA_ENV.workgroup, this.config.workgroup);
    fn.addEnvironment(ATHENA_ENV.database, this.config.database);
    const account = Aws.ACCOUNT_ID;
    const region = Aws.REGION;
    const partition = Aws.PARTITION;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RunQueries',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
        ],
        resources: [`arn:${partition}:athena:${region}:${account}:workgroup/${workgroup.name}`],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: mode === 'read' ? 'ReadCatalog' : 'ManageViews',
        actions:
          mode === 'read'
            ? ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables']
            : [
                'glue:GetDatabase',
                'glue:GetTable',
                'glue:GetTables',
                'glue:CreateTable',
                'glue:UpdateTable',
                'glue:DeleteTable',
              ],
        resources: [
          `arn:${partition}:glue:${region}:${account}:catalog`,
          `arn:${partition}:glue:${region}:${account}:database/${this.config.database}`,
          // The tables and the views by name: a view is a Glue table too.
          ...[...Object.values(TABLES), ...VIEWS].map(
            (table) => `arn:${partition}:glue:${region}:${account}:table/${this.config.database}/${table}`,
          ),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'QueryResults',
        actions: [
          's3:GetBucketLocation',
          's3:ListBucket',
          's3:GetObject',
          's3:PutObject',
          's3:AbortMultipartUpload',
        ],
        resources: [this.resultsBucket.bucketArn, this.resultsBucket.arnForObjects('results/*')],
      }),
    );
  }

  private useBus(fn: lambda.Function): void {
    fn.addEnvironment(DETECT_ENV.sink, `eventbridge:${this.bus.eventBusName}`);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PublishInsights',
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
      }),
    );
  }

  private dashboardAndAlarms(exporter: lambda.Function, detect: lambda.Function, dlq: sqs.Queue): void {
    const ours = (metricName: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: 'xray-lake' },
        statistic,
        period: Duration.minutes(5),
      });
    const lag = ours('ExportLag', 'Maximum');
    // Detection goes on past events the bus refuses for what they are (lib/insights/scheduled.ts): counted
    // from its log line, so such an insight, kept only in _state/insights/rejected/, is not missed.
    const setAside = new logs.MetricFilter(this, 'InsightEventsSetAside', {
      logGroup: detect.logGroup,
      metricNamespace: METRICS_NAMESPACE,
      metricName: 'InsightEventsSetAside',
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', EVENTS_SET_ASIDE_LOG),
      metricValue: '1',
    }).metric({ statistic: 'Sum', period: Duration.minutes(5) });
    const alarms = [
      new cloudwatch.Alarm(this, 'ExportFailing', {
        alarmDescription: 'The scheduled export failed twice in a row',
        metric: exporter.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ExportLagging', {
        alarmDescription: `The lake is more than ${this.config.lagAlarmMinutes} minutes behind X-Ray`,
        metric: lag,
        threshold: this.config.lagAlarmMinutes * 60,
        evaluationPeriods: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No lag figure at all means no export ran: that is lagging too.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
      new cloudwatch.Alarm(this, 'TracesGivenUp', {
        alarmDescription:
          'Traces X-Ray never returned were given up at its 30 days: they are not in the lake',
        metric: ours('TracesGivenUp'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'LakeProblemsLeft', {
        alarmDescription:
          'Lake hours hold problems the scheduled mending could not fix: xray-lake verify lists them',
        metric: ours('LakeProblemsLeft'),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // Not ExportFailing: the export of a run whose mending fails has succeeded (lib/export/scheduled.ts).
      new cloudwatch.Alarm(this, 'LakeMendingFailing', {
        alarmDescription: "The lake's scheduled mending failed in two runs in a row (its log line says why)",
        metric: ours('LakeMendingFailed'),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'BackfillDeadLetters', {
        alarmDescription: 'Backfill windows failed three times and wait in the dead-letter queue',
        metric: dlq.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'InsightEventsSetAsideAlarm', {
        alarmDescription: 'The insight bus refused events, kept in _state/insights/rejected/ instead',
        metric: setAside,
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DetectFailing', {
        alarmDescription: 'Anomaly detection failed twice in a row',
        metric: detect.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    const perService = (metricName: string, label: string) =>
      new cloudwatch.GraphWidget({
        title: label,
        width: 12,
        left: [
          new cloudwatch.MathExpression({
            expression: `SEARCH('{${METRICS_NAMESPACE},Service} MetricName="${metricName}"', 'Average', 300)`,
            label: '',
            period: Duration.minutes(5),
          }),
        ],
      });
    new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `xray-lake-${this.stackName}`,
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Export lag (s): lake freshness', width: 8, left: [lag] }),
          new cloudwatch.GraphWidget({ title: 'Traces exported', width: 8, left: [ours('TracesExported')] }),
          new cloudwatch.GraphWidget({
            title: 'Throttles, quarantined, unprocessed, given up',
            width: 8,
            left: [
              ours('Throttles'),
              ours('QuarantinedDocuments'),
              ours('UnprocessedTraces'),
              ours('TracesGivenUp'),
            ],
          }),
        ],
        [
          perService('LatencyP95', 'p95 latency per service (s)'),
          perService('FaultRate', 'Fault rate per service (%)'),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Active insights',
            width: 12,
            left: [
              new cloudwatch.Metric({
                namespace: METRICS_NAMESPACE,
                metricName: 'ActiveInsights',
                statistic: 'Maximum',
                period: Duration.minutes(5),
              }),
            ],
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 12, alarms }),
        ],
      ],
    });
  }
}
