import type { InsightPublisher } from '../../insights/events.js';
import { ConsolePublisher, JsonlPublisher } from '../../insights/jsonl-publisher.js';
import { detectOverLake } from '../../insights/lake.js';
import { DuckDbEngine } from '../../query/duckdb-engine.js';
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
    const result = await detectOverLake(engine, {
      ...(flags.from !== undefined && { from: flags.from }),
      ...(flags.to !== undefined && { to: flags.to }),
      historyDays: flags['history-days']!,
    });
    if (!result) {
      io.err('xray-lake detect: the lake has no traces yet\n');
      return 0;
    }
    await publisher.publish(result.entries);
    const opened = result.entries.filter((e) => e.Detail.State === 'ACTIVE').length;
    io.err(
      `${opened} insights opened, ${result.entries.length - opened} closed, over ${result.buckets} service buckets\n`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}
