import {
  decodeParquetColumns,
  encodeParquet,
  openParquet,
  readParquetColumns,
} from '../../lib/lake/parquet.js';
import { traceToRows } from '../../lib/lake/schema.js';
import type { ObjectStore } from '../../lib/store/object-store.js';
import { assembleTrace } from '../../lib/xray/assemble.js';
import { summarizeTrace } from '../../lib/xray/summary.js';
import { segment } from './segments.js';

/** A row group's bytes: its column chunks, from the first page of the first to the end of the last. */
export function groupBytes(bytes: Uint8Array, group: number): Buffer {
  const chunks = openParquet(bytes).metadata.row_groups[group]!.columns.map((c) => c.meta_data!);
  const first = (m: (typeof chunks)[number]) => Number(m.dictionary_page_offset ?? m.data_page_offset);
  const start = Math.min(...chunks.map(first));
  const end = Math.max(...chunks.map((m) => first(m) + Number(m.total_compressed_size)));
  return Buffer.from(bytes.subarray(start, end));
}

/**
 * Writes a segments file of several row groups (2,000 traces, 10,000 rows, well past a 16 KiB first read)
 * into `store` and reads its trace ids back by ranges: what `readParquetColumns` returned, what decoding the
 * whole file gives, and the file's size. Every ObjectStore with `getRange` must agree with the whole file.
 */
export async function rangedReadOf(store: ObjectStore) {
  const rows = Array.from({ length: 2_000 }, (_, i) => {
    const root = segment({ start_time: 1_795_000_000 + i });
    const documents = [
      root,
      ...Array.from({ length: 4 }, (_, k) =>
        segment({
          trace_id: root.trace_id,
          name: `w-${k}`,
          parent_id: root.id,
          start_time: root.start_time + k / 10,
        }),
      ),
    ];
    const assembled = assembleTrace(root.trace_id, documents);
    return traceToRows(assembled, summarizeTrace(assembled, 1), { exportedAt: 0 }).segments;
  }).flat();
  const body = encodeParquet('segments', rows, undefined, { rowGroupSize: 2_500 });
  await store.put('segments/dt=2026-11-20/hour=10/part-00000.parquet', body);
  const ranged = await readParquetColumns(
    store,
    'segments/dt=2026-11-20/hour=10/part-00000.parquet',
    'segments',
    ['trace_id'],
    16 * 1024,
  );
  const whole = await decodeParquetColumns('segments', body, ['trace_id']);
  return { ranged: ranged!, whole, size: body.byteLength, groups: openParquet(body).groupRows.length };
}
