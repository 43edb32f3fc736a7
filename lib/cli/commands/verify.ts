import { PROBLEM_KINDS, repairLake, type VerifyReport, verifyLake } from '../../lake/verify.js';
import { type FlagSpecs, parseFlags } from '../args.js';
import { UsageError } from '../errors.js';
import { type CommandIO, LAKE_FLAGS, openLake, progress } from '../io.js';

export const verifyFlags = {
  ...LAKE_FLAGS,
  region: { type: 'string', default: 'us-east-1', description: 'AWS region', placeholder: 'REGION' },
  from: { type: 'time', description: 'only hour partitions from this time', placeholder: 'ISO' },
  to: { type: 'time', description: 'and before this time', placeholder: 'ISO' },
  repair: {
    type: 'boolean',
    description:
      'fix what a merge can: drop stale orphans, withdraw incomplete traces, keep one copy of each',
  },
} satisfies FlagSpecs;

/**
 * `xray-lake verify`: reads the lake's hour files and checks its invariants (each trace once, whole, in its
 * hour). The report goes to stdout; exit 0 when nothing is wrong, 1 when something is. With `--repair`, what a
 * merge can fix is fixed first (lib/lake/verify.ts `repairLake`), and the exit code is the lake's after.
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
  const options = {
    ...(flags.from !== undefined && { from: flags.from }),
    ...(flags.to !== undefined && { to: flags.to }),
    onProgress: (done: number, total: number) => bar.update(`${done}/${total} part files`, { done, total }),
  };
  if (!flags.repair) {
    const report = await verifyLake(store, options);
    bar.done(summary(report));
    io.out(`${JSON.stringify({ lake: store.location, ...report }, null, 2)}\n`);
    return report.ok ? 0 : 1;
  }
  const repaired = await repairLake(store, options);
  bar.done(
    `before: ${summary(repaired.before)}; rewrote ${repaired.partsRewritten} part files (${repaired.orphansDropped} traces' orphan rows dropped, ${repaired.tracesWithdrawn} incomplete traces withdrawn, ${repaired.duplicatesRemoved} duplicate copies removed); after: ${summary(repaired.after)}`,
  );
  for (const { from, to } of repaired.reexport)
    io.err(
      `export this hour again for its withdrawn traces: xray-lake export --lake ${flags.lake} --from ${from} --to ${to}\n`,
    );
  if (repaired.after.pendingOrphanTraces > 0)
    io.err(
      `${repaired.after.pendingOrphanTraces} traces' orphan rows are dated now: verify --repair again in 15 minutes drops those no run has claimed\n`,
    );
  io.out(`${JSON.stringify({ lake: store.location, ...repaired }, null, 2)}\n`);
  return repaired.after.ok ? 0 : 1;
}

/** One line: the lake's figures, or its problems by kind, the first few named. */
function summary(report: VerifyReport): string {
  if (report.ok)
    return `${report.traces.toLocaleString('en-US')} traces in ${report.parts} part files: no problem found`;
  const kinds = [...new Set(report.problems.map((p) => `${p.kind}: ${PROBLEM_KINDS[p.kind]}`))].join('; ');
  const found = report.problems.map((p) => `${p.kind} in ${p.partition} part ${p.shard}: ${p.count}`);
  return `${report.problems.length} problems (${kinds}): ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}`;
}
