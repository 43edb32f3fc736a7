import { type ColumnSpec, COLUMNS, TABLES, type TableName } from '../lake/schema.js';

/** Athena (Hive DDL) types of the lake's column types. */
const ATHENA_TYPES: Record<ColumnSpec['type'], string> = {
  string: 'string',
  timestamp: 'timestamp',
  double: 'double',
  int32: 'int',
  int64: 'bigint',
  boolean: 'boolean',
  'list<string>': 'array<string>',
  'map<string,string>': 'map<string,string>',
};

/** The first day partition projection enumerates; X-Ray had no traces before it existed. */
export const PROJECTION_FIRST_DAY = '2016-01-01';

/**
 * `CREATE EXTERNAL TABLE` for a lake table, from the schema module (the single source the Parquet writer
 * also uses). Partition projection on `dt` (a date) and `hour` (00–23) with a location template, so Athena
 * finds partitions without a crawler or MSCK REPAIR, and prunes them by the query's `dt` predicates.
 */
export function athenaTableDdl(table: TableName, options: { database: string; location: string }): string {
  const location = options.location.replace(/\/+$/, '');
  const columns = (COLUMNS[table] as readonly ColumnSpec[])
    .map((c) => `  \`${c.name}\` ${ATHENA_TYPES[c.type]}`)
    .join(',\n');
  const base = `${location}/${TABLES[table]}`;
  return `CREATE EXTERNAL TABLE IF NOT EXISTS \`${options.database}\`.\`${TABLES[table]}\` (
${columns}
)
PARTITIONED BY (\`dt\` string, \`hour\` string)
STORED AS PARQUET
LOCATION '${base}/'
TBLPROPERTIES (
  'parquet.compression' = 'GZIP',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '${PROJECTION_FIRST_DAY},NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = '${base}/dt=\${dt}/hour=\${hour}/'
)`;
}
