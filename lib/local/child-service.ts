import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LocalServiceError } from './errors.js';

/** xray-local running in a process of its own. */
export interface XRayLocalProcess {
  endpoint: string;
  port: number;
  /** Stops it (SIGTERM: it stops as on Ctrl-C) and waits for it to exit. */
  stop(): Promise<void>;
}

/** How long the child may take to print its endpoint (it compiles its TypeScript through tsx first). */
const START_TIMEOUT_MS = 60_000;

/**
 * Starts `xray-lake xray-local --port 0 ARGS` in its own process and resolves with its endpoint once it
 * listens. A caller that both serves and reads X-Ray locally (the demo, the benchmarks) then has a core for
 * each: in one process the exporter and the service took turns on one, and on two simulated days the export
 * ran ~17% faster and the simulation ~25% (bench/README.md). The child is killed if this process exits first.
 */
export async function startXRayLocalProcess(args: readonly string[] = []): Promise<XRayLocalProcess> {
  const bin = fileURLToPath(new URL('../../bin/xray-lake.mjs', import.meta.url));
  const child = spawn(process.execPath, [bin, 'xray-local', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killChild = () => child.kill();
  process.once('exit', killChild);
  let output = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    // Kept only until it listens: enough to explain a failed start. Later output is read and dropped, so a
    // full pipe never blocks the service.
    if (errors.length < 8_192) errors += chunk.toString();
  });
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new LocalServiceError(`xray-local did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = / on (http:\/\/[^\s,]+)/.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', read);
        resolve(match[1]!);
      };
      child.stdout!.on('data', read);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new LocalServiceError(`cannot start xray-local: ${error.message}`, { cause: error }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new LocalServiceError(
            `xray-local exited (${signal ?? `code ${code}`}) before listening: ${errors.trim() || '(no output)'}`,
          ),
        );
      });
    });
    child.stdout!.resume();
    return {
      endpoint,
      port: Number(new URL(endpoint).port),
      async stop() {
        process.off('exit', killChild);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      },
    };
  } catch (error) {
    process.off('exit', killChild);
    child.kill();
    throw error;
  }
}
