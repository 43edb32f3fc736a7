import type { ObjectStore } from '../store/object-store.js';
import { partitionOf } from '../lake/schema.js';

/** A document that failed validation, kept verbatim with the reasons. */
export interface QuarantinedDocument {
  traceId: string;
  documentId: string;
  problems: readonly string[];
  /** The document exactly as the source returned it. */
  document: string;
}

/**
 * Keeps a trace's invalid documents under `_quarantine/dt=.../hour=.../<trace id>.json`, so nothing is lost
 * silently and someone can look, fix and re-import them. Rewriting is idempotent.
 */
export async function quarantine(
  store: ObjectStore,
  startTimeMs: number,
  documents: readonly QuarantinedDocument[],
  quarantinedAt: string,
): Promise<void> {
  if (documents.length === 0) return;
  const key = `_quarantine/${partitionOf(startTimeMs).path}/${documents[0]!.traceId}.json`;
  const body = new TextEncoder().encode(`${JSON.stringify({ quarantinedAt, documents }, null, 2)}\n`);
  await store.put(key, body);
}
