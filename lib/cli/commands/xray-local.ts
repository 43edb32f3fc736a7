import { parseRateLimits } from '../../local/rate-limit.js';
import { LocalXRayService } from '../../local/xray-service.js';
import { DAEMON_DEFAULT_PORT } from '../../xray/limits.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import type { CommandIO } from '../io.js';

export const xrayLocalFlags = {
  port: {
    type: 'number',
    integer: true,
    min: 0,
    max: 65535,
    default: DAEMON_DEFAULT_PORT,
    description: 'HTTP and UDP port on 127.0.0.1 (0 picks a free one)',
    placeholder: 'PORT',
  },
  host: { type: 'string', default: '127.0.0.1', description: 'address to listen on', placeholder: 'ADDR' },
  data: {
    type: 'string',
    description: 'folder that keeps traces across restarts (default: in memory)',
    placeholder: 'DIR',
  },
  'throttle-rate': {
    type: 'number',
    min: 0,
    max: 1,
    default: 0,
    description: 'fraction of calls answered ThrottledException (429)',
    placeholder: 'R',
  },
  'error-rate': {
    type: 'number',
    min: 0,
    max: 1,
    default: 0,
    description: 'fraction of calls answered with a 5xx',
    placeholder: 'R',
  },
  'latency-ms': {
    type: 'number',
    min: 0,
    max: 60_000,
    default: 0,
    description: 'delay added to every response',
    placeholder: 'MS',
  },
  'rate-limits': {
    type: 'string',
    default: 'default',
    description: 'token buckets: default, off, or API=RATE[/BURST],...',
    placeholder: 'SPEC',
  },
  'retention-days': {
    type: 'number',
    min: 0.001,
    max: 3650,
    default: 30,
    description: 'traces older than this are gone, as in X-Ray',
    placeholder: 'DAYS',
  },
} satisfies FlagSpecs;

/** `xray-lake xray-local`: serves the X-Ray API until interrupted. */
export async function runXRayLocal(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('xray-local', argv, xrayLocalFlags);
  let rateLimits: ReturnType<typeof parseRateLimits>;
  try {
    rateLimits = parseRateLimits(flags['rate-limits']!);
  } catch (error) {
    throw new UsageError((error as Error).message, 'xray-local');
  }
  const service = new LocalXRayService({
    host: flags.host!,
    port: flags.port!,
    ...(flags.data && { dataDir: flags.data }),
    rateLimits,
    throttleRate: flags['throttle-rate']!,
    errorRate: flags['error-rate']!,
    latencyMs: flags['latency-ms']!,
    retentionDays: flags['retention-days']!,
    log: (event, fields, level) => io.err(`${JSON.stringify({ level, event, ...fields })}\n`),
  });
  const { endpoint, port } = await service.start();
  io.out(
    `xray-local: X-Ray API (restJson1) on ${endpoint}, daemon protocol on udp://${flags.host}:${port}\n` +
      `  aws xray get-trace-summaries --endpoint-url ${endpoint} --start-time $(date -d '-1 hour' +%s) --end-time $(date +%s)\n`,
  );
  await io.interrupted;
  await service.stop();
  io.err(`${JSON.stringify({ level: 'info', event: 'stopped', ...service.stats() })}\n`);
  return 0;
}
