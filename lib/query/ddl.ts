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
  const columns = tableColumns(table)
    .map((c) => `  \`${c.name}\` ${c.type}`)
    .join(',\n');
  const properties = Object.entries(tableProperties(table, options.location))
    .map(([key, value]) => `  '${key}' = '${value}'`)
    .join(',\n');
  return `CREATE EXTERNAL TABLE IF NOT EXISTS \`${options.database}\`.\`${TABLES[table]}\` (
${columns}
)
PARTITIONED BY (${PARTITION_KEYS.map((k) => `\`${k.name}\` ${k.type}`).join(', ')})
STORED AS PARQUET
LOCATION '${tableLocation(table, options.location)}'
TBLPROPERTIES (
${properties}
)`;
}

/** The partition columns of both tables: the Hive path's `dt=YYYY-MM-DD/hour=HH`. */
export const PARTITION_KEYS = [
  { name: 'dt', type: 'string' },
  { name: 'hour', type: 'string' },
] as const;

/** A table's columns with their Athena types, from the schema module. */
export function tableColumns(table: TableName): { name: string; type: string }[] {
  return (COLUMNS[table] as readonly ColumnSpec[]).map((c) => ({ name: c.name, type: ATHENA_TYPES[c.type] }));
}

/** Where a table's files live under the lake root (`s3://bucket/prefix`), with a trailing slash. */
export function tableLocation(table: TableName, lakeRoot: string): string {
  return `${lakeRoot.replace(/\/+$/, '')}/${TABLES[table]}/`;
}

/**
 * Table properties: partition projection on `dt` (a date) and `hour` (00–23) with a location template, so
 * Athena finds partitions without a crawler or MSCK REPAIR and prunes them by the query's `dt` predicates.
 */
export function tableProperties(table: TableName, lakeRoot: string): Record<string, string> {
  const base = tableLocation(table, lakeRoot).replace(/\/$/, '');
  return {
    // What Athena would write with, were it to write into the table (it only reads: files of either codec);
    // the exporter Lambda writes ZSTD (lib/lake/codec.ts).
    'parquet.compression': 'ZSTD',
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${PROJECTION_FIRST_DAY},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': `${base}/dt=\${dt}/hour=\${hour}/`,
  };
}

/**
 * The same table as a Glue `TableInput` (what CloudFormation's AWS::Glue::Table takes), so the CDK stack
 * and `athenaTableDdl` describe the table from one source: the schema module.
 */
export function glueTableInput(table: TableName, lakeRoot: string) {
  return {
    name: TABLES[table],
    tableType: 'EXTERNAL_TABLE',
    parameters: { ...tableProperties(table, lakeRoot), classification: 'parquet', EXTERNAL: 'TRUE' },
    partitionKeys: PARTITION_KEYS.map((k) => ({ ...k })),
    storageDescriptor: {
      columns: tableColumns(table),
      location: tableLocation(table, lakeRoot),
      inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
  };
}
