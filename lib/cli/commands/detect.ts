import { BUCKET_SECONDS, type Bucket, detectInsights } from '../../insights/detect.js';
import type { InsightEntry, InsightPublisher } from '../../insights/events.js';
import { ConsolePublisher, JsonlPublisher } from '../../insights/jsonl-publisher.js';
import { DuckDbEngine } from '../../query/duckdb-engine.js';
import type { QueryEngine } from '../../query/engine.js';
import { parseLakeRoot } from '../../store/object-store.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../io.js';

export const detectFlags = {
  lake: { type: 'string', required: true, description: 'lake root: a folder', placeholder: 'ROOT' },
  from: {
    type: 'time',
    description: 'first bucket judged (default: the lake’s first day + 1 hour of warm-up)',
    placeholder: 'ISO',
  },
  to: {
    type: 'time',
    description: 'end of the replay (default: the lake’s last bucket)',
    placeholder: 'ISO',
  },
  sink: {
    type: 'string',
    default: 'stdout',
    description: 'stdout or jsonl:PATH (eventbridge:BUS comes with publishing)',
    placeholder: 'SINK',
  },
  'history-days': {
    type: 'number',
    min: 0,
    max: 30,
    default: 7,
    description: 'history read before --from for baselines',
    placeholder: 'DAYS',
  },
} satisfies FlagSpecs;

const SAMPLE_TRACES = 5;

/** `xray-lake detect`: replays the detectors over the lake bucket by bucket, as the schedule would. */
export async function runDetect(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('detect', argv, detectFlags);
  const root = parseLakeRoot(flags.lake!);
  if (root.kind === 's3')
    throw new UsageError('--lake: detect reads folder lakes on DuckDB in this build', 'detect');
  const sink = flags.sink!;
  let publisher: InsightPublisher;
  if (sink === 'stdout') publisher = new ConsolePublisher(io.out);
  else if (sink.startsWith('jsonl:') && sink.length > 6) publisher = new JsonlPublisher(sink.slice(6));
  else throw new UsageError(`--sink: expected stdout or jsonl:PATH, got "${sink}"`, 'detect');

  const engine = await DuckDbEngine.open(root.path);
  try {
    const { rows: range } = await engine.query(
      'SELECT min(epoch(bucket)) AS first, max(epoch(bucket)) AS last FROM service_buckets',
    );
    const first = range[0]?.first as number | null;
    const last = range[0]?.last as number | null;
    if (first === null || last === null || first === undefined || last === undefined) {
      io.err('xray-lake detect: the lake has no traces yet\n');
      return 0;
    }
    const from = flags.from ?? first + 3600;
    const to = flags.to ?? last + BUCKET_SECONDS;
    const historyFrom = from - flags['history-days']! * 86_400;
    const { rows } = await engine.query(
      `SELECT service, epoch(bucket) AS bucket, requests, errors, faults, throttles, p95 FROM service_buckets
       WHERE bucket >= to_timestamp(${historyFrom}) AND bucket < to_timestamp(${to})`,
    );
    const entries = detectInsights(rows as unknown as Bucket[], { from, to });
    for (const entry of entries)
      if (entry.Detail.State === 'ACTIVE') entry.Detail.SampleTraceIds = await samples(engine, entry);
    await publisher.publish(entries);
    const opened = entries.filter((e) => e.Detail.State === 'ACTIVE').length;
    io.err(
      `${opened} insights opened, ${entries.length - opened} closed, over ${rows.length} service buckets\n`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}

/** A few traces that show the anomaly: failing ones for rates, the slowest for latency. */
async function samples(engine: QueryEngine, entry: InsightEntry): Promise<string[]> {
  const { Detail: d } = entry;
  const category = d.Categories[0];
  const condition =
    category === 'FAULT'
      ? 'fault'
      : category === 'THROTTLE'
        ? 'throttle'
        : category === 'ERROR'
          ? '(error OR throttle)'
          : 'TRUE';
  const service = d.RootCauseServiceId.Name.replaceAll("'", "''");
  const { rows } = await engine.query(
    `SELECT trace_id FROM segments WHERE service = '${service}' AND kind IN ('segment', 'inferred') AND ${condition}
     AND start_time >= TIMESTAMPTZ '${d.StartTime}' AND start_time < TIMESTAMPTZ '${d.Event.EventTime}' + INTERVAL '5' MINUTE
     ORDER BY duration DESC LIMIT ${SAMPLE_TRACES}`,
  );
  return rows.map((r) => r.trace_id as string);
}
