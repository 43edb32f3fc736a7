import { DAEMON_HEADER } from './limits.js';

/** A daemon datagram split into its header and the segment document it carries. */
export type DaemonDatagram = { ok: true; document: string } | { ok: false; problem: string };

/**
 * Splits one X-Ray daemon datagram: a JSON header line (`{"format": "json", "version": 1}`), a newline,
 * then one segment document. SDKs differ in the header's spacing, so the header is compared as JSON.
 */
export function parseDaemonDatagram(datagram: Uint8Array | string): DaemonDatagram {
  const text = typeof datagram === 'string' ? datagram : Buffer.from(datagram).toString('utf8');
  const newline = text.indexOf('\n');
  if (newline === -1) return { ok: false, problem: 'datagram: no newline after the header line' };
  let header: unknown;
  try {
    header = JSON.parse(text.slice(0, newline));
  } catch {
    return { ok: false, problem: `datagram: header is not JSON (expected ${DAEMON_HEADER})` };
  }
  const { format, version } = (header ?? {}) as { format?: unknown; version?: unknown };
  if (format !== 'json' || version !== 1)
    return {
      ok: false,
      problem: `datagram: unsupported header ${JSON.stringify(header)} (expected ${DAEMON_HEADER})`,
    };
  const document = text.slice(newline + 1).trim();
  if (document.length === 0) return { ok: false, problem: 'datagram: no segment document after the header' };
  return { ok: true, document };
}

/** Frames one document as a daemon datagram. */
export function daemonDatagram(document: string): Buffer {
  return Buffer.from(`${DAEMON_HEADER}\n${document}`, 'utf8');
}
