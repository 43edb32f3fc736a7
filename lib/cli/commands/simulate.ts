import { existsSync, readFileSync } from 'node:fs';
import { ScenarioError } from '../../local/errors.js';
import { parseScenario, SCENARIOS, type Scenario } from '../../local/simulator/scenario.js';
import { simulate } from '../../local/simulator/simulate.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { type CommandIO, progress, xrayClientFor } from '../io.js';

export const simulateFlags = {
  endpoint: {
    type: 'string',
    required: true,
    description: 'X-Ray endpoint to write to (xray-local or AWS)',
    placeholder: 'URL',
  },
  from: {
    type: 'time',
    required: true,
    description: 'first simulated instant: ISO time or now-7d',
    placeholder: 'ISO',
  },
  to: {
    type: 'time',
    required: true,
    description: 'end of the simulated range (exclusive)',
    placeholder: 'ISO',
  },
  scenario: {
    type: 'string',
    default: 'default',
    description: `built-in scenario (${Object.keys(SCENARIOS).join(', ')}) or a JSON file`,
    placeholder: 'NAME|FILE',
  },
  seed: {
    type: 'number',
    integer: true,
    min: 0,
    max: 2 ** 32 - 1,
    default: 1,
    description: 'same seed, same traffic',
    placeholder: 'N',
  },
  labels: { type: 'string', description: 'write the incidents as a labels file', placeholder: 'FILE' },
  region: {
    type: 'string',
    default: 'us-east-1',
    description: 'AWS region of the endpoint',
    placeholder: 'REGION',
  },
  batch: {
    type: 'number',
    integer: true,
    min: 1,
    max: 500,
    default: 50,
    description: 'documents per PutTraceSegments call',
    placeholder: 'N',
  },
  concurrency: {
    type: 'number',
    integer: true,
    min: 1,
    max: 64,
    default: 8,
    description: 'calls in flight',
    placeholder: 'N',
  },
} satisfies FlagSpecs;

/** Loads a built-in scenario by name or a scenario file; errors name the field. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtIn = SCENARIOS[nameOrPath];
  if (builtIn) return builtIn;
  if (!existsSync(nameOrPath))
    throw new UsageError(
      `--scenario: "${nameOrPath}" is neither a built-in scenario (${Object.keys(SCENARIOS).join(', ')}) nor a file`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(nameOrPath, 'utf8'));
  } catch (error) {
    throw new UsageError(`--scenario: ${nameOrPath} is not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseScenario(json);
  } catch (error) {
    if (error instanceof ScenarioError) throw new UsageError(`--scenario ${nameOrPath}: ${error.message}`);
    throw error;
  }
}

/** `xray-lake simulate`: writes simulated traffic with labelled incidents into an X-Ray endpoint. */
export async function runSimulate(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('simulate', argv, simulateFlags);
  const scenario = loadScenario(flags.scenario!);
  if (flags.to! <= flags.from!) throw new UsageError('--to must be after --from', 'simulate');
  const client = xrayClientFor(flags.endpoint!, flags.region!);
  const bar = progress(io, 'simulate');
  const span = flags.to! - flags.from!;
  try {
    const report = await simulate(client, {
      scenario,
      from: flags.from!,
      to: flags.to!,
      seed: flags.seed!,
      ...(flags.labels && { labelsPath: flags.labels }),
      batchSize: flags.batch!,
      concurrency: flags.concurrency!,
      onProgress: ({ reached, traces }) =>
        bar.update(
          `${Math.round(((reached - flags.from!) / span) * 100)}% · ${traces.toLocaleString('en-US')} traces`,
          { traces },
        ),
    });
    bar.done(
      `${report.traces.toLocaleString('en-US')} traces (${report.documents.toLocaleString('en-US')} documents) in ${report.seconds}s, ${report.tracesPerSecond.toLocaleString('en-US')} traces/s`,
    );
    const { labels, ...rest } = report;
    io.out(
      `${JSON.stringify({ ...rest, incidents: labels.incidents.length, labelsFile: flags.labels ?? null }, null, 2)}\n`,
    );
    return 0;
  } finally {
    client.destroy();
  }
}
