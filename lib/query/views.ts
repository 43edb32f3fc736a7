import { readFileSync } from 'node:fs';
import { UnknownViewError } from './errors.js';

/**
 * The views, in dependency order. Their SQL lives in `sql/<name>.sql`, written once in Athena's (Trino's)
 * dialect and run unchanged by DuckDB with the shims in duckdb-engine.ts. The first four are the contract
 * (DESIGN.md, "Views").
 */
export const VIEWS = [
  'service_latency',
  'service_faults',
  'service_edges',
  'trace_latency',
  'operation_latency',
  'fault_root_causes',
  'annotation_latency',
  'service_buckets',
  'edge_buckets',
] as const;
export type ViewName = (typeof VIEWS)[number];

/** The SELECT that defines a view. */
export function viewSql(name: string): string {
  if (!(VIEWS as readonly string[]).includes(name)) throw new UnknownViewError(name, VIEWS);
  return readFileSync(new URL(`./sql/${name}.sql`, import.meta.url), 'utf8').trim();
}

/** `CREATE OR REPLACE VIEW` for a view, as both engines take it. */
export function createViewStatement(name: ViewName): string {
  return `CREATE OR REPLACE VIEW ${name} AS\n${viewSql(name)}`;
}
