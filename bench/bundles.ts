/**
 * Each Lambda's bundle, as `cdk synth` builds it with the local esbuild: raw and zipped (deflate, as the
 * zip Lambda receives) size, and a smoke check that the bundle loads and exports its handler. Prints
 * figures; asserts nothing. Target (issue #6): under 5 MB zipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

export async function runBundleBenchmark() {
  const out = mkdtempSync(join(tmpdir(), 'xray-lake-synth-'));
  try {
    const started = performance.now();
    execFileSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', out], { stdio: 'pipe' });
    const seconds = (performance.now() - started) / 1000;
    const template = JSON.parse(readFileSync(join(out, 'XRayLake.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Description?: string; Code?: { S3Key?: string } } }
      >;
    };
    const rows = [];
    for (const resource of Object.values(template.Resources)) {
      if (
        resource.Type !== 'AWS::Lambda::Function' ||
        !resource.Properties.Description?.startsWith('xray-lake')
      )
        continue;
      const hash = String(resource.Properties.Code?.S3Key ?? '').replace(/\.zip$/, '');
      const dir = join(out, `asset.${hash}`);
      const all = files(dir);
      const raw = all.reduce((n, f) => n + statSync(f).size, 0);
      // Source maps ship too (NODE_OPTIONS=--enable-source-maps), so they count.
      const zipped = all.reduce((n, f) => n + deflateRawSync(readFileSync(f), { level: 9 }).length + 100, 0);
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      const loaded = await import(pathToFileURL(join(dir, 'index.mjs')).href).then(
        (m: { handler?: unknown }) => typeof m.handler === 'function',
        (error: Error) => `fails: ${error.message}`,
      );
      rows.push({
        function: resource.Properties.Description.replace('xray-lake: ', ''),
        'raw MB': (raw / 1e6).toFixed(2),
        'zipped MB': (zipped / 1e6).toFixed(2),
        'loads and exports handler': loaded,
      });
    }
    return { seconds: seconds.toFixed(1), rows };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('bundles.ts')) {
  // The bundles read their configuration at load: give them a plausible one.
  Object.assign(process.env, {
    LAKE_ROOT: 's3://example-lake/xray',
    INSIGHT_SINK: 'eventbridge:xray-lake-insights',
    AWS_REGION: 'us-east-1',
  });
  const { seconds, rows } = await runBundleBenchmark();
  console.log(`cdk synth with bundling: ${seconds} s`);
  console.table(rows);
}
