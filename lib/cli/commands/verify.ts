import { PROBLEM_KINDS, verifyLake } from '../../lake/verify.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { type CommandIO, LAKE_FLAGS, openLake, progress } from '../io.js';

export const verifyFlags = {
  ...LAKE_FLAGS,
  region: { type: 'string', default: 'us-east-1', description: 'AWS region', placeholder: 'REGION' },
  from: { type: 'time', description: 'only hour partitions from this time', placeholder: 'ISO' },
  to: { type: 'time', description: 'and before this time', placeholder: 'ISO' },
} satisfies FlagSpecs;

/**
 * `xray-lake verify`: reads the lake's hour files and checks its invariants (each trace once, whole, in its
 * hour). The report goes to stdout; exit 0 when nothing is wrong, 1 when something is.
 */
export async function runVerify(argv: readonly string[], io: CommandIO): Promise<number> {
  const flags = parseFlags('verify', argv, verifyFlags);
  if (flags.from !== undefined && flags.to !== undefined && flags.to <= flags.from)
    throw new UsageError('--to must be after --from', 'verify');
  const store = openLake(flags.lake!, {
    region: flags.region!,
    ...(flags['s3-endpoint'] && { s3Endpoint: flags['s3-endpoint'] }),
  });
  const bar = progress(io, 'verify');
  const report = await verifyLake(store, {
    ...(flags.from !== undefined && { from: flags.from }),
    ...(flags.to !== undefined && { to: flags.to }),
    onProgress: (done, total) => bar.update(`${done}/${total} part files`, { done, total }),
  });
  const found = report.problems.map((p) => `${p.kind} in ${p.partition} part ${p.shard}: ${p.count}`);
  bar.done(
    report.ok
      ? `${report.traces.toLocaleString('en-US')} traces in ${report.parts} part files: no problem found`
      : `${report.problems.length} problems (${[...new Set(report.problems.map((p) => `${p.kind}: ${PROBLEM_KINDS[p.kind]}`))].join('; ')}): ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}`,
  );
  io.out(`${JSON.stringify({ lake: store.location, ...report }, null, 2)}\n`);
  return report.ok ? 0 : 1;
}
