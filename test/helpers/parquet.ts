import { openParquet } from '../../lib/lake/parquet.js';

/** A row group's bytes: its column chunks, from the first page of the first to the end of the last. */
export function groupBytes(bytes: Uint8Array, group: number): Buffer {
  const chunks = openParquet(bytes).metadata.row_groups[group]!.columns.map((c) => c.meta_data!);
  const first = (m: (typeof chunks)[number]) => Number(m.dictionary_page_offset ?? m.data_page_offset);
  const start = Math.min(...chunks.map(first));
  const end = Math.max(...chunks.map((m) => first(m) + Number(m.total_compressed_size)));
  return Buffer.from(bytes.subarray(start, end));
}
