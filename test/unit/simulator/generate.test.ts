import { describe, expect, it } from 'vitest';
import { TrafficGenerator } from '../../../lib/local/simulator/generate.js';
import { DEFAULT_SCENARIO, resolveIncidents, type Scenario } from '../../../lib/local/simulator/scenario.js';
import { assembleTrace } from '../../../lib/xray/assemble.js';
import { rootSegment, summarizeTrace } from '../../../lib/xray/summary.js';
import { validateSegmentDocument } from '../../../lib/xray/validate.js';

const from = Date.UTC(2026, 10, 2) / 1000; // a Monday
const to = from + 86_400;
const quiet: Scenario = {
  ...DEFAULT_SCENARIO,
  incidents: [],
  traffic: { ...DEFAULT_SCENARIO.traffic, requestsPerMinute: 200 },
};

function minutes(generator: TrafficGenerator, startMinute: number, count: number) {
  return Array.from({ length: count }, (_, i) => generator.minute(startMinute + i)).flat();
}

describe('TrafficGenerator', () => {
  it('is deterministic for a seed, whatever range a minute belongs to', () => {
    const a = new TrafficGenerator(quiet, [], 7).minute(from / 60 + 100);
    const b = new TrafficGenerator(quiet, [], 7).minute(from / 60 + 100);
    const other = new TrafficGenerator(quiet, [], 8).minute(from / 60 + 100);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(other));
  });

  it('writes documents X-Ray accepts, one root per trace, with the topology on the service map', () => {
    const traces = minutes(new TrafficGenerator(quiet, [], 1), from / 60 + 600, 5);
    expect(traces.length).toBeGreaterThan(500);
    const services = new Set<string>();
    for (const trace of traces) {
      for (const document of trace.documents) {
        const result = validateSegmentDocument(JSON.parse(JSON.stringify(document)));
        expect(result.ok ? [] : result.problems).toEqual([]);
      }
      const assembled = assembleTrace(trace.id, trace.documents);
      expect(assembled.orphans).toEqual([]);
      expect(rootSegment(assembled)?.parent_id).toBeUndefined();
      for (const id of summarizeTrace(assembled).ServiceIds)
        services.add(`${id.Name} ${id.Type ?? ''}`.trim());
    }
    expect([...services].sort()).toEqual([
      'DynamoDB AWS::DynamoDB::Table',
      'SQS AWS::SQS::Queue',
      'admin-api AWS::EC2::Instance',
      'cards.example.net remote',
      'checkout AWS::Lambda',
      'checkout AWS::Lambda::Function',
      'fulfillment-worker AWS::Lambda',
      'fulfillment-worker AWS::Lambda::Function',
      'payments AWS::ECS::Container',
      'reports AWS::ECS::Container',
      'shop-api/prod AWS::ApiGateway::Stage',
    ]);
  });

  it('follows the daily cycle: more traffic at the peak hour than at its opposite', () => {
    const generator = new TrafficGenerator(quiet, [], 1);
    const at = (hour: number) => minutes(generator, from / 60 + hour * 60, 30).length;
    expect(at(15)).toBeGreaterThan(at(3) * 2);
  });

  it('injects each incident only on its service and only in its window', () => {
    const scenario: Scenario = {
      ...quiet,
      incidents: [
        {
          name: 'slow payments',
          service: 'payments',
          category: 'latency',
          start: '+2h',
          duration: '1h',
          magnitude: 5,
        },
        {
          name: 'checkout faults',
          service: 'checkout',
          category: 'fault',
          start: '+4h',
          duration: '1h',
          magnitude: 0.3,
        },
        { name: 'surge', service: '*', category: 'traffic', start: '+6h', duration: '1h', magnitude: 5 },
      ],
    };
    const generator = new TrafficGenerator(scenario, resolveIncidents(scenario, from, to), 1);
    const window = (hour: number) => minutes(generator, from / 60 + hour * 60 + 10, 20);
    const durationsOf = (service: string, traces: ReturnType<typeof window>) =>
      traces
        .flatMap((t) => t.documents.filter((d) => d.name === service).map((d) => d.end_time! - d.start_time))
        .sort((a, b) => a - b);
    const median = (values: number[]) => values[Math.floor(values.length / 2)]!;
    const faultShare = (traces: ReturnType<typeof window>) =>
      traces.filter((t) =>
        t.documents.some((d) => d.name === 'checkout' && d.origin === 'AWS::Lambda::Function' && d.fault),
      ).length / traces.length;

    const before = window(1);
    // Own time ×5; the segment also spans the card API call, which is unchanged.
    expect(median(durationsOf('payments', window(2)))).toBeGreaterThan(
      median(durationsOf('payments', before)) * 1.8,
    );
    expect(median(durationsOf('checkout', window(4)))).toBeLessThan(
      median(durationsOf('checkout', before)) * 2,
    );
    expect(faultShare(window(4))).toBeGreaterThan(0.2);
    expect(faultShare(before)).toBeLessThan(0.03);
    expect(window(6).length).toBeGreaterThan(window(5).length * 3);
  });

  it("hits only the named caller's calls with an incident that names one", () => {
    // The orders table is called by checkout and by the fulfillment worker; only the worker's calls fault.
    const scenario: Scenario = {
      ...quiet,
      incidents: [
        {
          name: "the worker's writes fail",
          service: 'orders-table',
          caller: 'fulfillment-worker',
          category: 'fault',
          start: '+1h',
          duration: '1h',
          magnitude: 0.5,
        },
      ],
    };
    const generator = new TrafficGenerator(scenario, resolveIncidents(scenario, from, to), 1);
    const traces = minutes(generator, from / 60 + 70, 20);
    /** The share of `caller`'s DynamoDB calls that faulted. */
    const faultShare = (caller: string) => {
      const calls = traces.flatMap((t) =>
        t.documents
          .filter((d) => d.name === caller && d.origin === 'AWS::Lambda::Function')
          .flatMap((d) => d.subsegments ?? [])
          .flatMap((s) => s.subsegments ?? [])
          .filter((s) => s.name === 'DynamoDB'),
      );
      expect(calls.length).toBeGreaterThan(100);
      return calls.filter((c) => c.fault).length / calls.length;
    };
    expect(faultShare('fulfillment-worker')).toBeGreaterThan(0.4);
    expect(faultShare('checkout')).toBeLessThan(0.02);
  });
});
