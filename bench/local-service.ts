import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Starts `xray-lake xray-local` in its own process with limits off, as a user runs it beside their
 * workload, so a benchmark's client and the service each have a core. Resolves once it prints its endpoint.
 */
export async function startXRayLocalProcess(): Promise<{
  child: ChildProcess;
  endpoint: string;
  port: number;
}> {
  const child = spawn(
    process.execPath,
    ['bin/xray-lake.mjs', 'xray-local', '--port', '0', '--rate-limits', 'off'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /on (http:\/\/[\d.]+:\d+)/.exec(text);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`xray-local exited with ${code}`)));
  });
  return { child, endpoint, port: Number(new URL(endpoint).port) };
}
