/**
 * Builds a lake straight from the simulator through the schema module and the Parquet writer, an hour file
 * per partition, without xray-local or the exporter in between: benchmarks that need weeks of lake use it
 * (the exporter's own figures are bench/export.ts's).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { partKey } from '../lib/lake/hour-files.js';
import { encodeParquet } from '../lib/lake/parquet.js';
import { partitionOf, traceToRows, type TraceRows } from '../lib/lake/schema.js';
import { TrafficGenerator } from '../lib/local/simulator/generate.js';
import type { ResolvedIncident, Scenario } from '../lib/local/simulator/scenario.js';
import type { SegmentDocument } from '../lib/xray/types.js';
import { assembleTrace } from '../lib/xray/assemble.js';
import { summarizeTrace } from '../lib/xray/summary.js';

/**
 * Writes [from, to) (epoch seconds, whole hours) of `scenario`'s traffic as a lake in `root`. `onDocument`
 * sees every segment document (to count JSON bytes, say); `onDay` reports progress.
 */
export function buildLake(
  root: string,
  options: {
    scenario: Scenario;
    incidents: ResolvedIncident[];
    seed: number;
    from: number;
    to: number;
    onDocument?: (document: SegmentDocument) => void;
    onDay?: (day: number, days: number) => void;
  },
): void {
  const { from, to } = options;
  const generator = new TrafficGenerator(options.scenario, options.incidents, options.seed);
  for (let hour = from; hour < to; hour += 3600) {
    const rows: TraceRows[] = [];
    for (let minute = hour / 60; minute < (hour + 3600) / 60; minute++) {
      for (const trace of generator.minute(minute)) {
        const assembled = assembleTrace(trace.id, trace.documents);
        if (options.onDocument)
          for (const document of [...assembled.segments, ...assembled.inferred]) options.onDocument(document);
        rows.push(traceToRows(assembled, summarizeTrace(assembled, 1), { exportedAt: to * 1000 }));
      }
    }
    const partition = partitionOf(hour * 1000).path;
    for (const table of ['traces', 'segments'] as const) {
      const path = join(root, partKey(table, partition, 0));
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(
        path,
        table === 'traces'
          ? encodeParquet(
              'traces',
              rows.map((r) => r.trace),
            )
          : encodeParquet(
              'segments',
              rows.flatMap((r) => r.segments),
            ),
      );
    }
    if ((hour - from) % 86_400 === 0)
      options.onDay?.((hour - from) / 86_400 + 1, Math.ceil((to - from) / 86_400));
  }
}
