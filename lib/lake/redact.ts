import { type Redactor, type SegmentRow, type TraceRow, typeSafeRedactor } from './schema.js';

/** A redaction rule that cannot be read; `rule` is the offending text. */
export class RedactionRuleError extends Error {
  constructor(
    readonly rule: string,
    reason: string,
  ) {
    super(`redaction rule "${rule}": ${reason}`);
    this.name = new.target.name;
  }
}

export const REDACTION_RULES = [
  'http_url',
  'http_url:query',
  'users',
  'metadata',
  'cause_message',
  'annotation:KEY',
] as const;

/**
 * Builds a {@link Redactor} from rules separated by commas, so trace data that may be personal never
 * reaches the lake:
 *
 * - `http_url` drops URLs; `http_url:query` keeps them without query string and fragment (tokens, emails);
 * - `users` drops the user names X-Ray recorded;
 * - `metadata` drops segment metadata; `cause_message` drops exception messages;
 * - `annotation:KEY` drops one annotation everywhere.
 */
export function parseRedaction(spec: string): Redactor | undefined {
  const rules = spec
    .split(',')
    .map((rule) => rule.trim())
    .filter(Boolean);
  if (rules.length === 0) return undefined;
  let url: 'drop' | 'query' | undefined;
  let users = false;
  let metadata = false;
  let causeMessage = false;
  const annotations = new Set<string>();
  for (const rule of rules) {
    if (rule === 'http_url') url = 'drop';
    else if (rule === 'http_url:query') url ??= 'query';
    else if (rule === 'users') users = true;
    else if (rule === 'metadata') metadata = true;
    else if (rule === 'cause_message') causeMessage = true;
    else if (rule.startsWith('annotation:') && rule.length > 'annotation:'.length)
      annotations.add(rule.slice('annotation:'.length));
    else throw new RedactionRuleError(rule, `expected one of ${REDACTION_RULES.join(', ')}`);
  }
  const redactUrl = (value: string | null) =>
    value === null || url === undefined ? value : url === 'drop' ? null : value.replace(/[?#].*$/, '');
  const dropAnnotations = (map: Record<string, string>) =>
    annotations.size === 0
      ? map
      : Object.fromEntries(Object.entries(map).filter(([key]) => !annotations.has(key)));
  // Every rule keeps its column's type (a nullable column nulled, a list or map emptied or filtered).
  return typeSafeRedactor({
    trace: (row: TraceRow): TraceRow => ({
      ...row,
      http_url: redactUrl(row.http_url),
      users: users ? [] : row.users,
      annotations: dropAnnotations(row.annotations),
    }),
    segment: (row: SegmentRow): SegmentRow => ({
      ...row,
      http_url: redactUrl(row.http_url),
      metadata: metadata ? null : row.metadata,
      cause_message: causeMessage ? null : row.cause_message,
      annotations: dropAnnotations(row.annotations),
    }),
  });
}
