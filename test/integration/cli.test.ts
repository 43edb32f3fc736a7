import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_KEY } from '../../lib/export/state.js';
import { decodeParquet, encodeParquet } from '../../lib/lake/parquet.js';
import type { LabelFile } from '../../lib/local/simulator/simulate.js';
import { queryRow, runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';
import { startLocalXRay } from '../helpers/local-xray.js';

const exec = promisify(execFile);

/** Ten simulated minutes in a fresh xray-local, a fresh lake folder, and an export of them into `lake`. */
async function withTenMinutes(
  prefix: string,
  test: (context: {
    lake: string;
    /** The xray-local the minutes are in. */
    endpoint: string;
    exportTo: (dir: string, ...extra: string[]) => ReturnType<typeof runCli>;
  }) => Promise<void>,
): Promise<void> {
  const local = await startLocalXRay();
  const lake = await mkdtemp(join(tmpdir(), prefix));
  try {
    const from = '2026-11-21T08:00:00Z';
    const to = '2026-11-21T08:10:00Z';
    await runCli(['simulate', '--endpoint', local.endpoint, '--from', from, '--to', to]);
    await test({
      lake,
      endpoint: local.endpoint,
      exportTo: (dir, ...extra) =>
        runCli(['export', '--lake', dir, '--endpoint', local.endpoint, '--from', from, '--to', to, ...extra]),
    });
  } finally {
    await local.service.stop();
    await rm(lake, { recursive: true, force: true });
  }
}

describe('xray-lake command', () => {
  let dir: string;
  let local: Awaited<ReturnType<typeof startLocalXRay>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xray-lake-cli-'));
    local = await startLocalXRay();
  });
  afterAll(async () => {
    await local?.service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs from a fresh checkout through bin/ and lists its commands', async () => {
    const { stdout } = await exec(process.execPath, [join(repoRoot, 'bin', 'xray-lake.mjs'), '--help']);
    for (const command of ['xray-local', 'simulate', 'export', 'demo'])
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('simulates a labelled hour into xray-local and reports what it wrote', async () => {
    const labels = join(dir, 'labels.json');
    const { code, out, err } = await runCli([
      'simulate',
      '--endpoint',
      local.endpoint,
      '--from',
      '2026-11-20T10:00:00Z',
      '--to',
      '2026-11-20T11:00:00Z',
      '--seed',
      '3',
      '--labels',
      labels,
    ]);
    expect(err).not.toMatch(/error/i);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { traces: number; documents: number; unprocessed: number };
    expect(report.traces).toBeGreaterThan(500);
    expect(report.unprocessed).toBe(0);
    expect(local.service.stats().documents).toBe(report.documents);
    const file = JSON.parse(await readFile(labels, 'utf8')) as LabelFile;
    expect(file).toMatchObject({
      scenario: 'default',
      seed: 3,
      from: '2026-11-20T10:00:00.000Z',
      to: '2026-11-20T11:00:00.000Z',
    });
    expect(file.incidents.map((i) => i.service)).toContain('DynamoDB');
  });

  it('loads a scenario file and names the field of a mistake', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(
      path,
      JSON.stringify({
        nodes: [{ name: 'a', kind: 'ecs', latencyMs: { median: 5, p99: 10 }, calls: ['b'] }],
      }),
    );
    const { code, err } = await runCli([
      'simulate',
      '--endpoint',
      local.endpoint,
      '--from',
      'now-1h',
      '--to',
      'now',
      '--scenario',
      path,
    ]);
    expect(code).toBe(2);
    expect(err).toMatch(/--scenario .*broken\.json: nodes\[0]\.calls\[0]: unknown node "b"/);
  });

  it('fails with exit code 2 and the flag named for a bad value', async () => {
    const { code, err } = await runCli(['xray-local', '--throttle-rate', '2']);
    expect(code).toBe(2);
    expect(err).toMatch(/--throttle-rate: expected a number from 0 to 1, got "2"/);
    const verify = await runCli(['verify', '--lake', '.', '--from', '2026-11-21', '--to', '2026-11-20']);
    expect(verify.code).toBe(2);
    expect(verify.err).toMatch(/--to must be after --from/);
  });

  it('serves until interrupted, then stops cleanly', async () => {
    let stop!: () => void;
    const interrupt = new Promise<void>((resolve) => (stop = resolve));
    const running = runCli(['xray-local', '--port', '0', '--rate-limits', 'BatchGetTraces=2'], { interrupt });
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop();
    const { code, out, err } = await running;
    expect(code).toBe(0);
    expect(out).toMatch(/X-Ray API \(restJson1\) on http:\/\/127\.0\.0\.1:\d+/);
    expect(err).toMatch(/"event":"stopped"/);
  });

  it('reports a port already in use by naming the port', async () => {
    const { code, err } = await runCli(['xray-local', '--port', String(local.port)]);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`127\\.0\\.0\\.1:${local.port} is already in use; choose another --port`));
  });

  it('names a --data folder it cannot create, without a stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xray-local-data-'));
    try {
      await writeFile(join(dir, 'a-file'), '');
      const { code, err } = await runCli([
        'xray-local',
        '--port',
        '0',
        '--data',
        join(dir, 'a-file', 'xray'),
      ]);
      expect(code).toBe(1);
      expect(err).toContain(`data folder ${join(dir, 'a-file', 'xray')}: cannot create it (ENOTDIR`);
      expect(err).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends at once on Ctrl-C when the command does not wait for it (npm start)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'demo-interrupted-'));
    const child = spawn(process.execPath, ['bin/xray-lake.mjs', 'demo', '--days', '7', '--out', out], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      // Interrupted once it is simulating.
      await new Promise<void>((resolve) => child.stderr!.once('data', () => resolve()));
      const started = Date.now();
      child.kill('SIGINT');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      expect(signal ?? code).toBe('SIGINT');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('xray-lake export', () => {
  it('exports simulated traffic into an s3:// lake on an S3-compatible server, then resumes with nothing to do', async () => {
    const { startS3 } = await import('../helpers/s3-server.js');
    const s3 = await startS3({ conditional: true });
    const local = await startLocalXRay();
    try {
      const from = '2026-11-21T08:00:00Z';
      const to = '2026-11-21T08:30:00Z';
      const simulated = await runCli([
        'simulate',
        '--endpoint',
        local.endpoint,
        '--from',
        from,
        '--to',
        to,
        '--batch',
        '250',
      ]);
      expect(simulated.code).toBe(0);
      const traces = (JSON.parse(simulated.out) as { traces: number }).traces;
      const lake = [
        '--lake',
        `s3://${s3.bucket}/prod`,
        '--s3-endpoint',
        s3.endpoint,
        '--endpoint',
        local.endpoint,
      ];
      const first = await runCli(['export', ...lake, '--from', from, '--to', to]);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.out)).toMatchObject({
        tracesExported: traces,
        quarantinedDocuments: 0,
        unprocessedTraceIds: [],
      });
      const again = await runCli(['export', ...lake, '--from', from, '--to', to]);
      expect(JSON.parse(again.out)).toMatchObject({
        tracesExported: 0,
        tracesAlreadyCurrent: traces,
        calls: { BatchGetTraces: 0 },
      });
      // The lake on S3 checked whole: every trace once, with all its segment rows.
      const verified = await runCli(['verify', ...lake.slice(0, 4)]);
      expect(verified.code).toBe(0);
      expect(JSON.parse(verified.out)).toMatchObject({ traces, problems: [], ok: true });
      expect(verified.err).toContain(
        `${traces.toLocaleString('en-US')} traces in 1 part files: no problem found`,
      );
    } finally {
      await local.service.stop();
      await s3.stop();
    }
  });

  it('redacts what --redact names before anything is written', () =>
    withTenMinutes('redacted-lake-', async ({ lake, exportTo }) => {
      const exported = await exportTo(lake, '--redact', 'users,annotation:tenant');
      expect(exported.code).toBe(0);
      const users = await queryRow(
        lake,
        "SELECT count(*) AS n FROM traces WHERE len(users) > 0 OR annotations['tenant'] IS NOT NULL",
      );
      expect(users).toEqual({ n: 0 });
      // The same traffic exported without rules does carry users and tenants.
      const plain = await mkdtemp(join(tmpdir(), 'plain-lake-'));
      await exportTo(plain);
      const unredacted = await queryRow<{ n: number }>(
        plain,
        "SELECT count(*) AS n FROM traces WHERE len(users) > 0 AND annotations['tenant'] IS NOT NULL",
      );
      expect(unredacted.n).toBeGreaterThan(50);
      await rm(plain, { recursive: true, force: true });
      const bad = await exportTo(lake, '--redact', 'emails');
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/--redact: redaction rule "emails"/);
    }));

  it('stops at a lake file it cannot read, naming it, and recovers once the file is moved aside', () =>
    withTenMinutes('damaged-lake-', async ({ lake, exportTo }) => {
      const exportAgain = () => exportTo(lake);
      expect((await exportAgain()).code).toBe(0);
      const file = join(lake, 'traces', 'dt=2026-11-21', 'hour=08', 'part-00000.parquet');
      const count = () => queryRow<{ n: number }>(lake, 'SELECT count(*) AS n FROM traces');
      const before = await count();
      const whole = await readFile(file);
      await writeFile(file, whole.subarray(0, 64));
      const damaged = await exportAgain();
      expect(damaged.code).toBe(1);
      expect(damaged.err).toContain(`cannot read the lake file ${file}: not a Parquet file`);
      expect(damaged.err).toContain('move it aside');
      expect(damaged.err).not.toMatch(/\n\s+at /);
      expect((await readFile(file)).byteLength).toBe(64);
      // verify finds it too, and says so by its exit code.
      const verified = await runCli(['verify', '--lake', lake]);
      expect(verified.code).toBe(1);
      expect(JSON.parse(verified.out).problems).toEqual([
        expect.objectContaining({ kind: 'unreadable', partition: 'dt=2026-11-21/hour=08' }),
      ]);
      expect(verified.err).toContain('unreadable: a part file that is not a Parquet file the lake can read');
      // --repair leaves it to a person (what it holds may be gone from X-Ray), and still says so.
      const repaired = await runCli(['verify', '--lake', lake, '--repair']);
      expect(repaired.code).toBe(1);
      expect(JSON.parse(repaired.out)).toMatchObject({ partsRewritten: 0, after: { ok: false } });
      // As the message says: move it aside and export the hour again.
      await rename(file, `${file}.damaged`);
      expect((await exportAgain()).code).toBe(0);
      expect(await count()).toEqual(before);
      expect((await runCli(['verify', '--lake', lake])).code).toBe(0);
    }));

  it('mends after --resume the hours no run writes to any more: an incomplete trace withdrawn and exported again', () =>
    withTenMinutes('mended-lake-', async ({ lake, endpoint, exportTo }) => {
      expect((await exportTo(lake)).code).toBe(0);
      // One segment row lost from hour 08's segments file: its trace is incomplete.
      const file = join(lake, 'segments', 'dt=2026-11-21', 'hour=08', 'part-00000.parquet');
      const rows = await decodeParquet('segments', await readFile(file));
      const counts = new Map<string, number>();
      for (const row of rows) counts.set(row.trace_id, (counts.get(row.trace_id) ?? 0) + 1);
      const broken = [...counts].find(([, n]) => n > 2)![0];
      await writeFile(
        file,
        encodeParquet(
          'segments',
          rows.toSpliced(
            rows.findIndex((r) => r.trace_id === broken),
            1,
          ),
        ),
      );
      expect((await runCli(['verify', '--lake', lake])).code).toBe(1);
      // A lake exported to an hour ago whose hours are mended up to 08:00 on the 21st.
      const now = Math.floor(Date.now() / 1000);
      await mkdir(join(lake, '_state', 'export'), { recursive: true });
      await writeFile(
        join(lake, CHECKPOINT_KEY),
        JSON.stringify({
          position: now - 3600,
          healedPosition: Date.UTC(2026, 10, 21, 8) / 1000,
          updatedAt: new Date().toISOString(),
          runId: 'earlier',
        }),
      );
      const resumed = await runCli([
        'export',
        '--lake',
        lake,
        '--endpoint',
        endpoint,
        '--resume',
        '--revisit-hours',
        '1',
        '--heal-hours',
        '1',
      ]);
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.out).healed).toMatchObject({
        from: '2026-11-21T08:00:00.000Z',
        to: '2026-11-21T09:00:00.000Z',
        problemsFound: 1,
        tracesWithdrawn: 1,
        tracesReexported: 1,
        problemsLeft: [],
      });
      expect(JSON.parse(await readFile(join(lake, CHECKPOINT_KEY), 'utf8')).healedPosition).toBe(
        Date.UTC(2026, 10, 21, 9) / 1000,
      );
      expect((await runCli(['verify', '--lake', lake])).code).toBe(0);
    }));

  it("reports --resume's export when the mending after it fails, exits 1, and mends on the next --resume", () =>
    withTenMinutes('mending-fails-lake-', async ({ lake, endpoint, exportTo }) => {
      expect((await exportTo(lake)).code).toBe(0);
      const now = Math.floor(Date.now() / 1000);
      const healedPosition = Date.UTC(2026, 10, 21, 8) / 1000;
      await writeFile(
        join(lake, CHECKPOINT_KEY),
        JSON.stringify({
          position: now - 3600,
          healedPosition,
          updatedAt: new Date().toISOString(),
          runId: 'x',
        }),
      );
      // The day's folder replaced by a file: listing it fails (ENOTDIR), and only the mending lists it.
      const day = join(lake, 'traces', 'dt=2026-11-21');
      await rename(day, `${day}.aside`);
      await writeFile(day, 'not a folder');
      // No revisit: the ten minutes were sent just now, so a revisit by update time would read their hour too.
      const resume = ['export', '--lake', lake, '--endpoint', endpoint, '--resume', '--revisit-hours', '0'];
      const failed = await runCli(resume);
      expect(failed.code).toBe(1);
      expect(failed.err).toMatch(/the export succeeded, then mending the lake failed .*ENOTDIR/);
      expect(JSON.parse(failed.out)).toMatchObject({ mendingFailed: expect.stringContaining('ENOTDIR') });
      const checkpoint = JSON.parse(await readFile(join(lake, CHECKPOINT_KEY), 'utf8'));
      // The export's position moved (to the live edge), the mending's did not.
      expect(checkpoint.position).toBeGreaterThan(now - 3600);
      expect(checkpoint.healedPosition).toBe(healedPosition);
      await rm(day);
      await rename(`${day}.aside`, day);
      const mended = await runCli(resume);
      expect(mended.code).toBe(0);
      expect(JSON.parse(mended.out).healed).toMatchObject({
        from: '2026-11-21T08:00:00.000Z',
        problemsLeft: [],
      });
    }));

  it('refuses --shards other than the lake was written with, naming the flag, and exports nothing', () =>
    withTenMinutes('shards-lake-', async ({ lake, exportTo }) => {
      expect((await exportTo(lake)).code).toBe(0);
      const files = async () => (await readdir(lake, { recursive: true })).sort();
      const before = await files();
      const refused = await exportTo(lake, '--shards', '4');
      expect(refused.code).toBe(2);
      expect(refused.err).toContain(
        `--shards: the lake at ${lake} is written with 1 part file(s) an hour (_state/lake.json), not 4`,
      );
      expect(await files()).toEqual(before);
    }));

  it('stops after the window under way on Ctrl-C, releasing its lease, and a re-run goes on from there', async () => {
    const local = await startLocalXRay();
    const lake = await mkdtemp(join(tmpdir(), 'interrupted-lake-'));
    try {
      const from = '2026-11-21T08:00:00Z';
      const to = '2026-11-21T08:20:00Z';
      const simulated = await runCli(['simulate', '--endpoint', local.endpoint, '--from', from, '--to', to]);
      expect(simulated.code).toBe(0);
      const args = ['export', '--lake', lake, '--endpoint', local.endpoint, '--from', from, '--to', to];
      const stopped = await runCli(args, { interrupt: Promise.resolve() });
      expect(stopped.code).toBe(130);
      expect(stopped.err).toMatch(/stopping after the current window/);
      expect(JSON.parse(stopped.out)).toMatchObject({
        stoppedAt: '2026-11-21T08:00:00.000Z',
        tracesExported: 0,
      });
      // The lease was released: the next run does not wait for it, and exports the range.
      const again = await runCli(args);
      expect(again.code).toBe(0);
      expect((JSON.parse(again.out) as { tracesExported: number }).tracesExported).toBeGreaterThan(100);
    } finally {
      await local.service.stop();
      await rm(lake, { recursive: true, force: true });
    }
  });

  it('explains what --resume needs when the lake has no checkpoint', async () => {
    const { code, err } = await runCli(['export', '--lake', join(tmpdir(), 'no-such-lake'), '--resume']);
    expect(code).toBe(2);
    expect(err).toMatch(/--resume: .*no-such-lake has no checkpoint yet; run a first export with --from/);
  });

  it.each(['--heal-hours', '--revisit-hours'])(
    'refuses %s without --resume instead of ignoring it',
    async (flag) => {
      const lake = join(tmpdir(), 'no-such-lake');
      const { code, err } = await runCli(['export', '--lake', lake, '--from', 'now-1h', flag, '1']);
      expect(code).toBe(2);
      expect(err).toContain(`${flag} is only read with --resume; without it the flag would be ignored`);
    },
  );

  it('names a lake it cannot read and why, without a stack trace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'not-a-lake-'));
    try {
      await writeFile(join(dir, 'a-file'), '');
      const lake = join(dir, 'a-file', 'lake');
      const { code, err } = await runCli(['export', '--lake', lake, '--from', 'now-1h', '--to', 'now']);
      expect(code).toBe(1);
      expect(err).toContain(`cannot read _state/export/lease.json in ${lake} (ENOTDIR`);
      expect(err).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
