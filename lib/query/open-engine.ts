import { AthenaClient } from '@aws-sdk/client-athena';
import { parseLakeRoot } from '../store/object-store.js';
import { AthenaEngine } from './athena-engine.js';
import { DuckDbEngine } from './duckdb-engine.js';
import type { QueryEngine } from './engine.js';

/** Where an s3:// lake's tables and views are in Athena. */
export interface AthenaSettings {
  workgroup: string;
  database: string;
  region?: string;
}

/**
 * The engine for a lake root: Athena for `s3://bucket/prefix` (the Glue tables and views the stack
 * creates), embedded DuckDB over a folder. Each call opens an engine of its own, which the caller closes:
 * closing destroys its client, so an engine must never outlive one use (a warm Lambda opens one per
 * invocation).
 */
export async function openLakeEngine(lakeRoot: string, athena: AthenaSettings): Promise<QueryEngine> {
  const root = parseLakeRoot(lakeRoot);
  if (root.kind === 'fs') return DuckDbEngine.open(root.path);
  return new AthenaEngine(
    { workgroup: athena.workgroup, database: athena.database },
    new AthenaClient({ ...(athena.region && { region: athena.region }) }),
  );
}
