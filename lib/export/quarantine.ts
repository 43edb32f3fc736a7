import type { ObjectStore } from '../store/object-store.js';
import { hexDigest } from '../digest.js';
import { partitionOf } from '../lake/schema.js';

/** A document that failed validation, kept verbatim with the reasons. */
export interface QuarantinedDocument {
  traceId: string;
  documentId: string;
  problems: readonly string[];
  /** The document exactly as the source returned it. */
  document: string;
}

/** Why a quarantined document's text is not kept (see {@link quarantine}'s `withhold`). */
export const WITHHELD_REASON =
  'not kept: redaction rules are on, and a document that fails validation cannot be redacted field by ' +
  'field; X-Ray keeps the trace for 30 days (BatchGetTraces by its id), and bytes and sha256 identify the text';

/**
 * Keeps a trace's invalid documents under `_quarantine/dt=.../hour=.../<trace id>.json`, so nothing is lost
 * silently and someone can look, fix and re-import them. Rewriting is idempotent. With `withhold` (an export
 * with redaction rules) each document's text is left out, its size and SHA-256 kept: the rules promise that
 * nothing they name is written, and a document that failed validation (not JSON, fields of the wrong type)
 * cannot be redacted field by field, so kept verbatim it would write what the rules took out of the tables.
 */
export async function quarantine(
  store: ObjectStore,
  startTimeMs: number,
  documents: readonly QuarantinedDocument[],
  quarantinedAt: string,
  withhold = false,
): Promise<void> {
  if (documents.length === 0) return;
  const key = `_quarantine/${partitionOf(startTimeMs).path}/${documents[0]!.traceId}.json`;
  const kept = withhold
    ? documents.map(({ document, ...rest }) => ({
        ...rest,
        document: null,
        withheld: WITHHELD_REASON,
        bytes: new TextEncoder().encode(document).byteLength,
        sha256: hexDigest('sha256', document),
      }))
    : documents;
  const body = new TextEncoder().encode(`${JSON.stringify({ quarantinedAt, documents: kept }, null, 2)}\n`);
  await store.put(key, body);
}
