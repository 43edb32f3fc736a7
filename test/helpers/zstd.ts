/**
 * ZSTD frames of stored (Raw) blocks: valid Zstandard (RFC 8878, §3.1.1) that every decoder reads, written
 * without a compressor, so the tests make ZSTD files on Node 20, whose zlib has no ZSTD.
 */

/** Zstandard's largest block (RFC 8878, §3.1.1.2.4: Block_Maximum_Size is at most 128 KiB). */
const MAX_BLOCK = 128 * 1024;

/** `input` as one ZSTD frame: single segment, 4-byte content size, no checksum, raw blocks. */
export function storedZstd(input: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(input.length / MAX_BLOCK));
  const out = new Uint8Array(4 + 1 + 4 + blocks * 3 + input.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0xfd2fb528, true);
  // Frame_Header_Descriptor: content size in 4 bytes (flag 2), single segment (no window descriptor).
  out[4] = (2 << 6) | (1 << 5);
  view.setUint32(5, input.length, true);
  let at = 9;
  for (let b = 0; b < blocks; b++) {
    const part = input.subarray(b * MAX_BLOCK, Math.min(input.length, (b + 1) * MAX_BLOCK));
    // Block_Header, 3 bytes little-endian: Last_Block, Block_Type 0 (Raw), Block_Size.
    const header = (part.length << 3) | (b === blocks - 1 ? 1 : 0);
    out[at] = header & 0xff;
    out[at + 1] = (header >> 8) & 0xff;
    out[at + 2] = (header >> 16) & 0xff;
    out.set(part, at + 3);
    at += 3 + part.length;
  }
  return out;
}
