import { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../../query/athena-engine.js';
import { DuckDbEngine } from '../../query/duckdb-engine.js';
import type { QueryEngine, Row } from '../../query/engine.js';
import { QueryError } from '../../query/errors.js';
import { VIEWS, viewSql } from '../../query/views.js';
import { parseLakeRoot } from '../../store/object-store.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../io.js';
import { table } from '../format.js';
import { ATHENA_DEFAULTS } from '../../query/config.js';

export const queryFlags = {
  lake: { type: 'string', description: 'lake root: a folder (DuckDB)', placeholder: 'ROOT' },
  workgroup: {
    type: 'string',
    default: ATHENA_DEFAULTS.workgroup,
    description: 'Athena workgroup',
    placeholder: 'NAME',
  },
  database: {
    type: 'string',
    default: ATHENA_DEFAULTS.database,
    description: 'Athena (Glue) database',
    placeholder: 'NAME',
  },
  output: {
    type: 'string',
    description: 'Athena result location, unless the workgroup enforces one',
    placeholder: 'S3URI',
  },
  region: {
    type: 'string',
    default: 'us-east-1',
    description: 'AWS region of Athena',
    placeholder: 'REGION',
  },
  view: { type: 'string', description: `one of ${VIEWS.join(', ')}`, placeholder: 'NAME' },
  sql: { type: 'string', description: 'any SQL over traces, segments and the views', placeholder: 'SQL' },
  from: { type: 'time', description: 'with --view: hours at or after this time', placeholder: 'ISO' },
  to: { type: 'time', description: 'with --view: hours before this time', placeholder: 'ISO' },
  engine: {
    type: 'string',
    default: 'duckdb',
    description: 'duckdb (a folder lake) or athena',
    placeholder: 'ENGINE',
  },
  format: {
    type: 'string',
    default: 'table',
    description: 'table, json (one object a line) or csv',
    placeholder: 'FORMAT',
  },
  limit: {
    type: 'number',
    integer: true,
    min: 1,
    default: 1000,
    description: 'rows at most, with --view',
    placeholder: 'N',
  },
} satisfies FlagSpecs;

const FORMATS = ['table', 'json', 'csv'] as const;

/** The SQL `--view` runs: the view, limited to [from, to) on both `dt` (so partitions are pruned) and `hour`. */
export function viewQuery(view: string, range: { from?: number; to?: number }, limit: number): string {
  viewSql(view); // names the view's mistake before anything runs
  const where: string[] = [];
  const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
  const ts = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').replace('Z', '');
  if (range.from !== undefined)
    where.push(
      `dt >= '${day(range.from)}'`,
      `hour >= TIMESTAMP '${ts(Math.floor(range.from / 3600) * 3600)}'`,
    );
  if (range.to !== undefined) where.push(`dt <= '${day(range.to)}'`, `hour < TIMESTAMP '${ts(range.to)}'`);
  return `SELECT * FROM ${view}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY hour, 1 LIMIT ${limit}`;
}

/** `xray-lake query`: a view or any SQL over the lake, on DuckDB (a folder) or Athena. */
export async function runQuery(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('query', argv, queryFlags);
  if ((flags.view === undefined) === (flags.sql === undefined))
    throw new UsageError('give one of --view NAME or --sql SQL', 'query');
  if (flags.sql !== undefined && (flags.from !== undefined || flags.to !== undefined))
    throw new UsageError('--from/--to go with --view; put the range in your --sql', 'query');
  const format = flags.format as (typeof FORMATS)[number];
  if (!FORMATS.includes(format))
    throw new UsageError(`--format: expected one of ${FORMATS.join(', ')}, got "${flags.format}"`, 'query');
  if (flags.engine !== 'duckdb' && flags.engine !== 'athena')
    throw new UsageError(`--engine: expected duckdb or athena, got "${flags.engine}"`, 'query');
  let openEngine: () => Promise<QueryEngine>;
  if (flags.engine === 'athena') {
    const options = {
      workgroup: flags.workgroup!,
      database: flags.database!,
      ...(flags.output && { outputLocation: flags.output }),
    };
    openEngine = async () => new AthenaEngine(options, new AthenaClient({ region: flags.region! }));
  } else {
    if (!flags.lake) throw new UsageError('--lake is required with --engine duckdb', 'query');
    const root = parseLakeRoot(flags.lake);
    if (root.kind === 's3')
      throw new UsageError(
        '--lake: DuckDB here reads folder lakes; for s3:// use --engine athena (or copy the lake down)',
        'query',
      );
    openEngine = () => DuckDbEngine.open(root.path);
  }
  let sql: string;
  try {
    sql = flags.view
      ? viewQuery(
          flags.view,
          {
            ...(flags.from !== undefined && { from: flags.from }),
            ...(flags.to !== undefined && { to: flags.to }),
          },
          flags.limit!,
        )
      : flags.sql!;
  } catch (error) {
    if (error instanceof QueryError) throw new UsageError(`--view: ${error.message}`, 'query');
    throw error;
  }
  const engine = await openEngine();
  try {
    const { rows, stats } = await engine.query(sql);
    io.out(render(rows, format));
    const cost =
      stats.bytesScanned === undefined
        ? ''
        : `, ${(stats.bytesScanned / 2 ** 20).toFixed(1)} MiB scanned, $${stats.costUsd?.toFixed(6)}`;
    io.err(`${rows.length} rows in ${stats.seconds.toFixed(3)}s (${stats.engine}${cost})\n`);
    return 0;
  } catch (error) {
    if (error instanceof QueryError) {
      io.err(`xray-lake query: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await engine.close();
  }
}

function cell(value: Row[string]): string {
  if (value === null) return '';
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function render(rows: Row[], format: (typeof FORMATS)[number]): string {
  if (format === 'json') return rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
  if (format === 'csv') {
    if (rows.length === 0) return '';
    const columns = Object.keys(rows[0]!);
    const quote = (text: string) => (/[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
    return (
      [
        columns.join(','),
        ...rows.map((row) => columns.map((c) => quote(cell(row[c] ?? null))).join(',')),
      ].join('\n') + '\n'
    );
  }
  return `${table(rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, cell(v)]))))}\n`;
}
