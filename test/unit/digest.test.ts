import { describe, expect, it } from 'vitest';
import { hexDigest } from '../../lib/digest.js';

describe('hexDigest', () => {
  it('gives the published digests of "abc" (RFC 1321, FIPS 180-2), from a string and from bytes', () => {
    const bytes = new TextEncoder().encode('abc');
    for (const data of ['abc', bytes]) {
      expect(hexDigest('md5', data)).toBe('900150983cd24fb0d6963f7d28e17f72');
      expect(hexDigest('sha1', data)).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
      expect(hexDigest('sha256', data)).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
    }
  });

  it('hashes a string as UTF-8', () => {
    expect(hexDigest('sha1', 'é')).toBe(hexDigest('sha1', new Uint8Array([0xc3, 0xa9])));
  });
});
