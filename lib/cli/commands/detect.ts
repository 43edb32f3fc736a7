import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ExportStateError } from '../../export/errors.js';
import { DETECT_DEFAULTS } from '../../insights/detect.js';
import { InsightsError } from '../../insights/errors.js';
import { INSIGHT_SOURCE, INSIGHT_SOURCE_PATTERN } from '../../insights/events.js';
import { detectOverLake } from '../../insights/lake.js';
import { METRICS_NAMESPACE, type MetricsSink, PutMetricDataSink } from '../../insights/metrics.js';
import { runScheduledDetect, SCHEDULED_DETECT_DEFAULTS } from '../../insights/scheduled.js';
import { openInsightPublisher, parseInsightSink, SINK_FORMS } from '../../insights/sinks.js';
import { parseThresholds, ThresholdsError } from '../../insights/thresholds.js';
import { ATHENA_DEFAULTS } from '../../query/config.js';
import { openLakeEngine } from '../../query/open-engine.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { type CommandIO, openLake } from '../io.js';

export const detectFlags = {
  lake: {
    type: 'string',
    required: true,
    description: 'lake root: a folder (DuckDB) or s3://bucket/prefix (Athena)',
    placeholder: 'ROOT',
  },
  from: {
    type: 'time',
    description: 'replay: first bucket judged (without --from/--to: one scheduled run, state in _state/)',
    placeholder: 'ISO',
  },
  to: {
    type: 'time',
    description: 'replay: end of the range (default: the lake’s last bucket)',
    placeholder: 'ISO',
  },
  now: {
    type: 'time',
    description: 'scheduled run: judge as if it were this time (default: the clock)',
    placeholder: 'ISO',
  },
  sink: {
    type: 'string',
    default: 'stdout',
    description: 'stdout, jsonl:PATH or eventbridge:BUS',
    placeholder: 'SINK',
  },
  source: {
    type: 'string',
    default: INSIGHT_SOURCE,
    description: 'the events’ Source (EventBridge rules match on it)',
    placeholder: 'NAME',
  },
  metrics: {
    type: 'string',
    default: 'none',
    description: `none, or cloudwatch[:NAMESPACE] (PutMetricData; default namespace ${METRICS_NAMESPACE})`,
    placeholder: 'SINK',
  },
  'history-days': {
    type: 'number',
    min: 1,
    max: 30,
    default: DETECT_DEFAULTS.historyDays,
    description: 'days of history baselines look back over',
    placeholder: 'DAYS',
  },
  'lag-minutes': {
    type: 'number',
    min: 0,
    default: SCHEDULED_DETECT_DEFAULTS.lagMinutes,
    description: 'scheduled run: buckets younger than this wait for the next run',
    placeholder: 'MIN',
  },
  workgroup: {
    type: 'string',
    default: ATHENA_DEFAULTS.workgroup,
    description: 'Athena workgroup (s3:// lakes)',
    placeholder: 'NAME',
  },
  database: {
    type: 'string',
    default: ATHENA_DEFAULTS.database,
    description: 'Athena (Glue) database',
    placeholder: 'NAME',
  },
  thresholds: {
    type: 'string',
    default: '',
    description:
      'override thresholds, e.g. latencyAlpha=0.001,openAfter=3 (names: DETECTOR_DEFAULTS, LIFECYCLE_DEFAULTS)',
    placeholder: 'LIST',
  },
  region: { type: 'string', default: 'us-east-1', description: 'AWS region', placeholder: 'REGION' },
} satisfies FlagSpecs;

/**
 * `xray-lake detect`: with `--from`/`--to`, replays the detector over the range bucket by bucket, exactly as
 * the schedule would, without touching the state; without them, one scheduled run that continues from the
 * state in the lake's `_state/` (what the Lambda does every five minutes).
 */
export async function runDetect(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('detect', argv, detectFlags);
  const replay = flags.from !== undefined || flags.to !== undefined;
  if (replay && flags.now !== undefined)
    throw new UsageError('--now goes with a scheduled run; a replay takes --from/--to', 'detect');
  if (!INSIGHT_SOURCE_PATTERN.test(flags.source!))
    throw new UsageError(`--source: "${flags.source}" is not a valid event source`, 'detect');
  let thresholds: ReturnType<typeof parseThresholds>;
  try {
    thresholds = parseThresholds(flags.thresholds!, '--thresholds');
  } catch (error) {
    if (error instanceof ThresholdsError) throw new UsageError(error.message, 'detect');
    throw error;
  }
  const sink = parseInsightSink(flags.sink!);
  if (!sink) throw new UsageError(`--sink: expected ${SINK_FORMS}, got "${flags.sink}"`, 'detect');
  const publisher = openInsightPublisher(sink, { write: io.out, region: flags.region! });
  const metrics = openMetrics(flags.metrics!, flags.region!);
  const engine = await openLakeEngine(flags.lake!, {
    workgroup: flags.workgroup!,
    database: flags.database!,
    region: flags.region!,
  });
  try {
    if (replay) {
      const result = await detectOverLake(engine, {
        ...(flags.from !== undefined && { from: flags.from }),
        ...(flags.to !== undefined && { to: flags.to }),
        historyDays: flags['history-days']!,
        source: flags.source!,
        ...thresholds,
      });
      if (!result) {
        io.err('xray-lake detect: the lake has no traces yet\n');
        return 0;
      }
      await publisher.publish(result.entries);
      const opened = new Set(result.entries.map((e) => e.Detail.InsightId)).size;
      io.err(`${opened} insights, ${result.entries.length} events, over ${result.buckets} service buckets\n`);
      return 0;
    }
    const report = await runScheduledDetect(
      {
        engine,
        store: openLake(flags.lake!, { region: flags.region! }),
        publisher,
        ...(metrics && { metrics }),
      },
      {
        ...SCHEDULED_DETECT_DEFAULTS,
        lagMinutes: flags['lag-minutes']!,
        historyDays: flags['history-days']!,
        source: flags.source!,
        ...thresholds,
      },
      flags.now !== undefined ? new Date(flags.now * 1000) : new Date(),
    );
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const waiting = report.waitingForExport
      ? `later buckets wait for the export, whose checkpoint is at ${report.waitingForExport}`
      : `buckets wait ${flags['lag-minutes']} minutes`;
    io.err(
      report.to > report.from
        ? `judged ${report.buckets} buckets [${iso(report.from)}, ${iso(report.to)}) of ${report.services} services: ` +
            `${report.opened} opened, ${report.updated} updated, ${report.closed} closed, ${report.activeInsights} active` +
            `${report.waitingForExport ? `; ${waiting}` : ''}\n`
        : `nothing new to judge before ${iso(report.from)} (${waiting})\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof InsightsError || error instanceof ExportStateError) {
      io.err(`xray-lake detect: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await engine.close();
  }
}

function openMetrics(spec: string, region: string): MetricsSink | undefined {
  if (spec === 'none') return undefined;
  if (spec === 'cloudwatch' || (spec.startsWith('cloudwatch:') && spec.length > 11))
    return new PutMetricDataSink(spec.slice(11) || METRICS_NAMESPACE, new CloudWatchClient({ region }));
  throw new UsageError(`--metrics: expected none or cloudwatch[:NAMESPACE], got "${spec}"`, 'detect');
}
