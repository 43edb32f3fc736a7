import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { InsightPublisher } from './events.js';
import { EventBridgePublisher } from './eventbridge-publisher.js';
import { ConsolePublisher, JsonlPublisher } from './jsonl-publisher.js';

/** Where insights go, as the CLI's `--sink` and the Lambda's `INSIGHT_SINK` spell it. */
export type InsightSink =
  { kind: 'stdout' } | { kind: 'jsonl'; path: string } | { kind: 'eventbridge'; bus: string };

export const SINK_FORMS = 'stdout, jsonl:PATH or eventbridge:BUS';

/** Reads `stdout`, `jsonl:PATH` or `eventbridge:BUS` (a bus name or ARN); undefined for anything else. */
export function parseInsightSink(spec: string): InsightSink | undefined {
  if (spec === 'stdout') return { kind: 'stdout' };
  if (spec.startsWith('jsonl:') && spec.length > 'jsonl:'.length)
    return { kind: 'jsonl', path: spec.slice(6) };
  const bus = /^eventbridge:([A-Za-z0-9._\-/:]+)$/.exec(spec)?.[1];
  return bus ? { kind: 'eventbridge', bus } : undefined;
}

/** The publisher for a sink: the console writes through `write`; EventBridge in `region` (or the default). */
export function openInsightPublisher(
  sink: InsightSink,
  options: { write: (text: string) => void; region?: string },
): InsightPublisher {
  switch (sink.kind) {
    case 'stdout':
      return new ConsolePublisher(options.write);
    case 'jsonl':
      return new JsonlPublisher(sink.path);
    case 'eventbridge':
      return new EventBridgePublisher(
        sink.bus,
        new EventBridgeClient({ ...(options.region && { region: options.region }) }),
      );
  }
}
