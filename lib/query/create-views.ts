import { createHash } from 'node:crypto';
import type { QueryEngine } from './engine.js';
import { createViewStatement, VIEWS, type ViewName, viewSql } from './views.js';

/**
 * A digest of every view's SQL: the CDK stack puts it in the views custom resource's properties, so
 * CloudFormation updates (re-creates) the views exactly when the SQL changes.
 */
export function viewsDigest(views: readonly ViewName[] = VIEWS): string {
  const hash = createHash('sha256');
  for (const view of views) hash.update(`${view}\u0000${viewSql(view)}\u0000`);
  return hash.digest('hex');
}

/**
 * Creates or replaces every view through an engine, in dependency order (`VIEWS` lists them so).
 * Idempotent: CREATE OR REPLACE, so re-running after a partial failure or on an update is safe.
 */
export async function createViews(
  engine: QueryEngine,
  views: readonly ViewName[] = VIEWS,
): Promise<string[]> {
  for (const view of views) await engine.query(createViewStatement(view));
  return [...views];
}

/** Drops the views (stack deletion); views already gone are fine. */
export async function dropViews(engine: QueryEngine, views: readonly ViewName[] = VIEWS): Promise<void> {
  for (const view of [...views].reverse()) await engine.query(`DROP VIEW IF EXISTS ${view}`);
}
