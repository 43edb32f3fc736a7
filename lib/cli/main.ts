import { ExportError } from '../export/errors.js';
import { InsightsError } from '../insights/errors.js';
import { ParquetLayoutError, RedactionError, UnreadableLakeFileError } from '../lake/errors.js';
import { LocalServiceError } from '../local/errors.js';
import { QueryError } from '../query/errors.js';
import { StoreError } from '../store/errors.js';
import { XRayModelError } from '../xray/errors.js';
import { describeFlags, type FlagSpecs } from './args.js';
import { demoFlags, runDemo } from './commands/demo.js';
import { detectFlags, runDetect } from './commands/detect.js';
import { exportFlags, runExport } from './commands/export.js';
import { queryFlags, runQuery } from './commands/query.js';
import { runSimulate, simulateFlags } from './commands/simulate.js';
import { runXRayLocal, xrayLocalFlags } from './commands/xray-local.js';
import { runVerify, verifyFlags } from './commands/verify.js';
import { UsageError } from './errors.js';
import type { CommandIO } from './io.js';

interface Command {
  summary: string;
  flags: FlagSpecs;
  run: (argv: readonly string[], io: CommandIO) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  'xray-local': {
    summary: 'serve the X-Ray API (HTTP restJson1) and daemon protocol (UDP) locally',
    flags: xrayLocalFlags,
    run: runXRayLocal,
  },
  simulate: {
    summary: 'write simulated traffic with labelled incidents into an X-Ray endpoint',
    flags: simulateFlags,
    run: runSimulate,
  },
  export: {
    summary: 'export traces from X-Ray (or xray-local) into the Parquet lake, exactly once',
    flags: exportFlags,
    run: runExport,
  },
  query: {
    summary: 'run a view or any SQL over the lake (embedded DuckDB, or Athena)',
    flags: queryFlags,
    run: runQuery,
  },
  verify: {
    summary: 'check the lake: every trace once, whole, in its hour; --repair fixes what a merge can',
    flags: verifyFlags,
    run: runVerify,
  },
  detect: {
    summary: 'judge new buckets (or replay a range) and publish insight events',
    flags: detectFlags,
    run: runDetect,
  },
  demo: {
    summary: 'run the pipeline locally with no AWS account, with an HTML report (npm start)',
    flags: demoFlags,
    run: runDemo,
  },
};

/** Commands of the contract that later work delivers; named so `--help` tells the whole story. */
const PLANNED = [] as const;

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`);
  return [
    'xray-lake: keep, query and watch AWS X-Ray traces',
    '',
    'Usage: xray-lake <command> [flags]    xray-lake <command> --help',
    '',
    'Commands:',
    ...lines,
    '',
    ...(PLANNED.length ? ['', `Not built yet: ${PLANNED.join(', ')} (see README.md, "Status")`] : []),
  ].join('\n');
}

/**
 * The default IO: stdout and stderr of this process, Ctrl-C as the interrupt. The signal handlers are installed
 * only when a command asks for `interrupted` (xray-local to stop serving, export to stop after its window):
 * installed for every command, they kept Ctrl-C from ending any other (`npm start` ran to its end). Once the
 * first signal has been taken, a second one gets Node's own handling and ends the process at once.
 */
export function processIO(): CommandIO {
  let interrupted: Promise<void> | undefined;
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
    get interrupted() {
      interrupted ??= new Promise<void>((resolve) => {
        const once = () => {
          process.off('SIGINT', once);
          process.off('SIGTERM', once);
          resolve();
        };
        process.once('SIGINT', once);
        process.once('SIGTERM', once);
      });
      return interrupted;
    },
  };
}

/** Runs the command line; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: readonly string[], io: CommandIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const planned = (PLANNED as readonly string[]).includes(name) ? ' (planned, not built yet)' : '';
    io.err(`xray-lake: unknown command "${name}"${planned}\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`xray-lake ${name}: ${command.summary}\n\n${describeFlags(command.flags)}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`xray-lake ${name}: ${error.message}\n(run xray-lake ${name} --help)\n`);
      return 2;
    }
    if (OPERATIONAL_ERRORS.some((type) => error instanceof type)) {
      io.err(`xray-lake ${name}: ${withCauses(error as Error)}\n`);
      return 1;
    }
    io.err(`xray-lake ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/**
 * The modules' named errors: what they say names the input and the context (a folder that cannot be
 * created, a lake key that cannot be read), so a user gets that and its causes, not a stack trace. Any other
 * error is a bug and keeps its stack.
 */
const OPERATIONAL_ERRORS = [
  LocalServiceError,
  StoreError,
  ExportError,
  InsightsError,
  QueryError,
  XRayModelError,
  ParquetLayoutError,
  RedactionError,
  UnreadableLakeFileError,
];

/** An error's message followed by its causes' (ENOTDIR and the like), each once. */
function withCauses(error: Error): string {
  let text = error.message;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause)
    if (!text.includes(cause.message)) text += ` (${cause.message})`;
  return text;
}
