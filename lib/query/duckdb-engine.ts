import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { type ColumnSpec, COLUMNS, TABLES, type TableName } from '../lake/schema.js';
import type { QueryEngine, QueryStats, Row } from './engine.js';
import { QueryFailedError } from './errors.js';
import { createViewStatement, VIEWS } from './views.js';

/** DuckDB types of the lake's column types, for an empty lake's placeholder tables. */
const DUCKDB_TYPES: Record<ColumnSpec['type'], string> = {
  string: 'VARCHAR',
  timestamp: 'TIMESTAMPTZ',
  double: 'DOUBLE',
  int32: 'INTEGER',
  int64: 'BIGINT',
  boolean: 'BOOLEAN',
  'list<string>': 'VARCHAR[]',
  'map<string,string>': 'MAP(VARCHAR, VARCHAR)',
};

/**
 * The Trino functions the view SQL uses that DuckDB spells differently, as macros, so the very same files
 * run on both. `approx_percentile` is exact here (quantile_disc picks an observed value, as Trino's does);
 * Athena's is approximate, within about 1% of rank.
 */
export const TRINO_SHIMS = [
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  'CREATE OR REPLACE MACRO to_unixtime(t) AS epoch(t)',
  'CREATE OR REPLACE MACRO from_unixtime(x) AS to_timestamp(x)',
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  // Trino's JSON is a type of its own, returned as text through json_format; DuckDB's is text already.
  'CREATE OR REPLACE MACRO json_format(j) AS CAST(j AS VARCHAR)',
] as const;

/**
 * Embedded DuckDB over a lake folder: `traces` and `segments` read the Hive-partitioned Parquet in place
 * (dt/hour filters prune files), and the views are created from lib/query/sql.
 */
export class DuckDbEngine implements QueryEngine {
  readonly name = 'duckdb';

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens a lake folder (it may be empty or not exist yet: the tables are then empty). */
  static async open(lakeRoot: string): Promise<DuckDbEngine> {
    // Loaded on first use: a native module, absent from the Lambda bundles, which read S3 lakes on Athena.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const engine = new DuckDbEngine(instance, connection);
    await connection.run("SET TimeZone = 'UTC'");
    for (const shim of TRINO_SHIMS) await connection.run(shim);
    for (const table of Object.keys(TABLES) as TableName[])
      await connection.run(tableStatement(resolve(lakeRoot), table));
    for (const view of VIEWS) await connection.run(createViewStatement(view));
    return engine;
  }

  async query(sql: string): Promise<{ rows: Row[]; stats: QueryStats }> {
    const started = performance.now();
    try {
      const reader = await this.connection.runAndReadAll(sql);
      const rows = reader.getRowObjectsJS().map((row) => {
        const out: Row = {};
        for (const [key, value] of Object.entries(row)) out[key] = toPlain(value);
        return out;
      });
      return { rows, stats: { engine: this.name, seconds: (performance.now() - started) / 1000 } };
    } catch (error) {
      throw new QueryFailedError(sql, (error as Error).message, { cause: error });
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

function tableStatement(root: string, table: TableName): string {
  const folder = join(root, TABLES[table]);
  const hasFiles = existsSync(folder) && readdirSync(folder).some((dt) => dt.startsWith('dt='));
  if (hasFiles) {
    const glob = join(folder, 'dt=*', 'hour=*', '*.parquet').replaceAll("'", "''");
    // dt and hour come from the folder names; read as text, as Athena's projection declares them.
    return `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'dt': VARCHAR, 'hour': VARCHAR}, union_by_name = true)`;
  }
  const columns = (COLUMNS[table] as readonly ColumnSpec[]).map((c) => `${c.name} ${DUCKDB_TYPES[c.type]}`);
  return `CREATE OR REPLACE TABLE ${table} (${[...columns, 'dt VARCHAR', 'hour VARCHAR'].join(', ')})`;
}

/** DuckDB values → plain JSON-able values: bigints to numbers, timestamps to ISO strings. */
function toPlain(value: unknown): Row[string] {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => toPlain(v));
  if (typeof value === 'object') {
    const text = String(value);
    if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/.test(text))
      return new Date(text.replace(' ', 'T').replace(/\+00$/, 'Z')).toISOString();
    if ('entries' in (value as object) && Array.isArray((value as { entries: unknown }).entries))
      return Object.fromEntries(
        (value as { entries: { key: string; value: unknown }[] }).entries.map((e) => [
          e.key,
          toPlain(e.value),
        ]),
      );
    return value as Record<string, unknown>;
  }
  return value as string | number | boolean;
}
