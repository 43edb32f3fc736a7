import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npx cdk synth', () => {
  let out: string;
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('synthesizes offline with no credentials, bundling every function with the local esbuild', async () => {
    out = await mkdtemp(join(tmpdir(), 'cdk-synth-'));
    const env = { ...process.env };
    for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
    await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], { env, timeout: 120_000 });
    const template = JSON.parse(await readFile(join(out, 'XRayLake.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Description?: string; Code?: { S3Key?: string } } }
      >;
    };
    const ours = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.startsWith('xray-lake: '),
    );
    expect(ours).toHaveLength(5);
    for (const fn of ours) {
      const asset = join(out, `asset.${String(fn.Properties.Code!.S3Key).replace(/\.zip$/, '')}`);
      const files = await readdir(asset);
      expect(files).toContain('index.mjs');
      if (fn.Properties.Description!.includes('views'))
        expect(await readdir(join(asset, 'sql'))).toContain('service_latency.sql');
    }
  }, 180_000);
});
