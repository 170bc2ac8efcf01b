import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32 } from '../src/index';

const text = (s: string) => new TextEncoder().encode(s);

describe('base32', () => {
  it('matches the RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY======'],
      ['fo', 'MZXQ===='],
      ['foo', 'MZXW6==='],
      ['foob', 'MZXW6YQ='],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI======'],
    ];
    for (const [input, encoded] of vectors) expect(base32(text(input))).toBe(encoded);
  });

  it('encodes every 5 bytes as 8 characters, so a prefix of the bytes gives a prefix of the text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 64 }), (bytes) => {
        expect(base32(bytes).length % 8).toBe(0);
        expect(base32(bytes).startsWith(base32(bytes.subarray(0, 10)))).toBe(true);
      }),
    );
  });
});
