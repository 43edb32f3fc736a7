import { describe, expect, it } from 'vitest';
import { parseFlags, parseTime } from '../../../lib/cli/args.js';
import { UsageError } from '../../../lib/cli/errors.js';

const specs = {
  port: { type: 'number', integer: true, min: 0, max: 65535, default: 2000, description: 'port' },
  from: { type: 'time', required: true, description: 'start' },
  data: { type: 'string', description: 'folder' },
  verbose: { type: 'boolean', description: 'more' },
} as const;

describe('parseFlags', () => {
  it('reads --name value and --name=value, with defaults', () => {
    const flags = parseFlags('x', ['--from=2026-11-20T00:00:00Z', '--data', '/tmp/d', '--verbose'], specs);
    expect(flags).toEqual({ port: 2000, from: Date.UTC(2026, 10, 20) / 1000, data: '/tmp/d', verbose: true });
  });

  it.each([
    [['--from', 'now', '--prot', '1'], /unknown flag --prot \(x takes --port, --from, --data, --verbose\)/],
    [['--port', '1'], /--from is required/],
    [['--from', 'now', '--port', '70000'], /--port: expected a whole number from 0 to 65535, got "70000"/],
    [['--from', 'now', '--port', '1.5'], /--port: expected a whole number/],
    [['--from', 'now', '--data'], /--data needs a value/],
    [['--from', 'yesterday'], /--from: expected an ISO time/],
    [['stray'], /unexpected argument "stray"/],
  ])('rejects %j naming the flag', (argv, message) => {
    expect(() => parseFlags('x', argv, specs)).toThrow(UsageError);
    expect(() => parseFlags('x', argv, specs)).toThrow(message);
  });
});

describe('a flag that requires another', () => {
  const withResume = {
    resume: { type: 'boolean', description: 'go on' },
    hours: { type: 'number', default: 2, requires: 'resume', description: 'with --resume: how far' },
  } as const;

  it('is read, or defaulted, with the flag it requires', () => {
    expect(parseFlags('x', ['--resume', '--hours', '3'], withResume)).toEqual({ resume: true, hours: 3 });
    expect(parseFlags('x', ['--resume'], withResume)).toEqual({ resume: true, hours: 2 });
    expect(parseFlags('x', [], withResume)).toEqual({ resume: false, hours: 2 });
  });

  it.each([[['--hours', '3']], [['--hours=0']]])('is refused alone, naming both flags: %j', (argv) => {
    expect(() => parseFlags('x', argv, withResume)).toThrow(
      '--hours is only read with --resume; without it the flag would be ignored',
    );
  });
});

describe('parseTime', () => {
  it('reads ISO times and now±N units', () => {
    expect(parseTime('2026-11-20', '--t')).toBe(Date.UTC(2026, 10, 20) / 1000);
    expect(parseTime('now', '--t', 1000)).toBe(1000);
    expect(parseTime('now-2h', '--t', 10_000)).toBe(10_000 - 7200);
    expect(parseTime('now+1.5d', '--t', 0)).toBe(129_600);
  });
});
