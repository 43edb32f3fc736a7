import { main } from '../../lib/cli/main.js';

/** Runs the command line in-process, capturing what it writes. */
export async function runCli(argv: string[], options: { interrupt?: Promise<void> } = {}) {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    interactive: false,
    interrupted: options.interrupt ?? new Promise(() => {}),
  });
  return { code, out, err };
}

/** Runs `xray-lake query --sql` over `lake` through the command line and returns its one row. */
export async function queryRow<T>(lake: string, sql: string): Promise<T> {
  const { out } = await runCli(['query', '--lake', lake, '--format', 'json', '--sql', sql]);
  return JSON.parse(out) as T;
}
