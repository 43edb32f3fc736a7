import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../../lib/local/errors.js';
import {
  DEFAULT_SCENARIO,
  parseInstant,
  parseScenario,
  resolveIncidents,
} from '../../../lib/local/simulator/scenario.js';

/** The scenario as loose JSON, so a test can break it in ways the types forbid. */
type LooseScenario = {
  nodes: { kind: string; calls?: string[]; latencyMs: { p99: number } }[];
  entrypoints: { node: string }[];
  incidents: { category: string; start: string; duration: string }[];
};
const clone = () => JSON.parse(JSON.stringify(DEFAULT_SCENARIO)) as LooseScenario;

describe('parseScenario', () => {
  it('accepts the default scenario as JSON', () => {
    expect(parseScenario(clone())).toMatchObject(DEFAULT_SCENARIO);
  });

  it.each([
    [
      'a call to an unknown node',
      (s: LooseScenario) => s.nodes[1]!.calls!.push('paymnets'),
      'nodes[1].calls[3]: unknown node "paymnets"',
    ],
    ['an unknown kind', (s: LooseScenario) => (s.nodes[0]!.kind = 'k8s'), 'nodes[0].kind: expected one of'],
    [
      'a p99 below the median',
      (s: LooseScenario) => (s.nodes[0]!.latencyMs.p99 = 1),
      'nodes[0].latencyMs.p99: 1 is outside',
    ],
    ['a cycle', (s: LooseScenario) => (s.nodes[3]!.calls = ['checkout']), 'nodes: calls form a cycle'],
    [
      'a rate above 1',
      (s: LooseScenario) => (s.incidents[1]!.category = 'fault'),
      'incidents[1].magnitude: a fault incident',
    ],
    [
      'a bad start',
      (s: LooseScenario) => (s.incidents[0]!.start = 'tomorrow'),
      'incidents[0].start: "tomorrow" is not',
    ],
    [
      'a bad duration',
      (s: LooseScenario) => (s.incidents[0]!.duration = '2 weeks'),
      'incidents[0].duration: "2 weeks" is not a duration',
    ],
    [
      'an uninstrumented entrypoint',
      (s: LooseScenario) => (s.entrypoints[0]!.node = 'orders-table'),
      'entrypoints[0].node: an entrypoint must be instrumented',
    ],
    [
      'a caller that does not call the service',
      (s: LooseScenario) => Object.assign(s.incidents[2]!, { caller: 'payments' }),
      'incidents[2].caller: "payments" is not a node that calls "checkout"',
    ],
    [
      'a traffic incident with a caller',
      (s: LooseScenario) => Object.assign(s.incidents[0]!, { caller: 'checkout' }),
      'incidents[0].caller: a traffic incident has no caller',
    ],
    [
      'calls from a table',
      (s: LooseScenario) => (s.nodes[2]!.calls = ['payments']),
      'nodes[2].calls: a dynamodb node is not instrumented',
    ],
  ])('rejects %s, naming the field', (_what, mutate, message) => {
    const scenario = clone();
    mutate(scenario);
    expect(() => parseScenario(scenario)).toThrow(ScenarioError);
    expect(() => parseScenario(scenario)).toThrow(message);
  });
});

describe('incident times', () => {
  const from = Date.UTC(2026, 10, 1) / 1000;
  const to = from + 7 * 86_400;

  it('reads ISO times, offsets from the start and percentages of the run', () => {
    expect(parseInstant('2026-11-03T00:00:00Z', from, to)).toBe(from + 2 * 86_400);
    expect(parseInstant('+36h', from, to)).toBe(from + 36 * 3600);
    expect(parseInstant('+1d6h30m', from, to)).toBe(from + 86_400 + 6.5 * 3600);
    expect(parseInstant('50%', from, to)).toBe(from + 3.5 * 86_400);
  });

  it('labels incidents with the service name X-Ray shows', () => {
    const incidents = resolveIncidents(DEFAULT_SCENARIO, from, to);
    expect(incidents.find((i) => i.service === 'orders-table')?.xrayService).toBe('DynamoDB');
    expect(incidents.find((i) => i.service === 'payments')?.xrayService).toBe('payments');
  });

  it('places the default incidents without overlap on the same service', () => {
    const incidents = resolveIncidents(DEFAULT_SCENARIO, from, to);
    for (const a of incidents)
      for (const b of incidents)
        if (a !== b && a.xrayService === b.xrayService)
          expect(a.endTime <= b.startTime || b.endTime <= a.startTime).toBe(true);
  });
});
