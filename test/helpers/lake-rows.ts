import {
  COLUMNS,
  type ColumnSpec,
  type SegmentRow,
  type TableName,
  type TraceRow,
  traceToRows,
} from '../../lib/lake/schema.js';
import { TrafficGenerator } from '../../lib/local/simulator/generate.js';
import { Random } from '../../lib/local/simulator/random.js';
import { DEFAULT_SCENARIO } from '../../lib/local/simulator/scenario.js';
import { assembleTrace } from '../../lib/xray/assemble.js';
import { summarizeTrace } from '../../lib/xray/summary.js';
import type { SegmentDocument } from '../../lib/xray/types.js';
import { segment } from './segments.js';

/** A trace's lake rows, as an export writes them. */
export const rowsOf = (documents: SegmentDocument[], revision = 1) => {
  const assembled = assembleTrace(documents[0]!.trace_id, documents);
  return traceToRows(assembled, summarizeTrace(assembled, revision), { exportedAt: 0 });
};

/** A trace starting at `start` (epoch seconds): a root segment and `spans − 1` children. */
export function traceAt(start: number, spans = 2): SegmentDocument[] {
  const root = segment({ start_time: start });
  return [
    root,
    ...Array.from({ length: spans - 1 }, (_, i) =>
      segment({
        trace_id: root.trace_id,
        name: `w-${i}`,
        parent_id: root.id,
        start_time: start + (i + 1) / 10,
      }),
    ),
  ];
}

/**
 * The lake's rows of `minutes` of the default scenario's traffic from minute `from` (since the epoch): the
 * same rows for the same arguments.
 */
export function simulatorTables(minutes: number, seed: number, from = 29_600_000) {
  const generator = new TrafficGenerator(DEFAULT_SCENARIO, [], seed);
  const traces: TraceRow[] = [];
  const segments: SegmentRow[] = [];
  for (let minute = from; minute < from + minutes; minute++)
    for (const trace of generator.minute(minute)) {
      const assembled = assembleTrace(trace.id, trace.documents);
      const rows = traceToRows(assembled, summarizeTrace(assembled, 1), { exportedAt: 1_800_000_000_000 });
      traces.push(rows.trace);
      segments.push(...rows.segments);
    }
  return { traces, segments };
}

/**
 * Strings that test a writer's corners: empty, non-ASCII (2-, 3- and 4-byte UTF-8), a lone surrogate
 * (written as U+FFFD), characters past U+FFFF against U+E000–U+FFFF (UTF-16 and UTF-8 order differ).
 */
const ODD_STRINGS = ['', 'a', 'ü', 'näme', '日本', '🚀', '\ud800', '\uffff', '\ue000x', '𝒳-ray', 'z'];
const ODD_DOUBLES = [0, -0, Number.NaN, Infinity, -Infinity, 1e-300, -1.5, 2 ** 60];

/** How a column's values are drawn, so a table exercises both sides of the writer's choices. */
type Mode = 'few' | 'many' | 'long' | 'nulls';

/**
 * Rows of a lake table with values drawn column by column to reach the Parquet writer's every path:
 * dictionaries kept and refused, pages and row groups split, nulls and all-null columns, non-ASCII ids,
 * NaN and signed zeros, timestamps before 1970 and spans past the Number fast path. Not meaningful
 * traces: for comparing writers and readers, not for queries.
 */
export function randomRows(table: TableName, seed: number, count: number): Record<string, unknown>[] {
  const random = new Random(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random.next() * values.length)]!;
  const columns = COLUMNS[table] as readonly ColumnSpec[];
  const modes = columns.map(() => pick<Mode>(['few', 'many', 'long', 'nulls']));
  const wideTimestamps = random.chance(0.2);
  const base = random.chance(0.1) ? -86_400_000 * 400 : 1_790_000_000_000;
  const string = (mode: Mode) => {
    if (mode === 'few') return pick(ODD_STRINGS);
    if (mode === 'long')
      return `${pick(ODD_STRINGS)}${random.hex(8)}`.repeat(1 + Math.floor(random.next() * 12));
    // Ids share prefixes with their neighbours, which DELTA_BYTE_ARRAY stores once.
    return `1-69${random.hex(6)}-${random.hex(random.chance(0.5) ? 24 : 3)}${random.chance(0.05) ? 'é' : ''}`;
  };
  const valueOf = (column: ColumnSpec, mode: Mode): unknown => {
    if (column.nullable && (mode === 'nulls' ? random.chance(0.9) : random.chance(0.1))) return null;
    switch (column.type) {
      case 'string':
        return string(mode);
      case 'timestamp':
        return base + Math.floor(random.next() * (wideTimestamps ? 2 ** 46 : 7_200_000));
      case 'double':
        return mode === 'few' ? pick(ODD_DOUBLES) : random.next() * 1000;
      case 'int32':
        return mode === 'few' ? pick([0, 200, 404, 500, -1]) : Math.floor((random.next() - 0.5) * 2 ** 32);
      case 'int64':
        return mode === 'few' ? pick([1, 2, 3]) : Math.floor(random.next() * Number.MAX_SAFE_INTEGER);
      case 'boolean':
        return mode === 'few' ? random.chance(0.05) : random.chance(0.5);
      case 'list<string>':
        return Array.from({ length: Math.floor(random.next() * 4) }, () =>
          string(mode === 'nulls' ? 'few' : mode),
        );
      case 'map<string,string>': {
        const map: Record<string, string | null> = {};
        const entries = mode === 'nulls' ? 0 : Math.floor(random.next() * 4);
        for (let i = 0; i < entries; i++)
          map[pick(ODD_STRINGS) || 'k'] = random.chance(0.1) ? null : string(mode);
        return map;
      }
    }
  };
  return Array.from({ length: count }, () => {
    const row: Record<string, unknown> = {};
    columns.forEach((column, c) => (row[column.name] = valueOf(column, modes[c]!)));
    return row;
  });
}
