import { describe, expect, it } from 'vitest';
import { encodeAddress, writeNormalizedAddress } from '../src/address';

describe('writeNormalizedAddress', () => {
  it('writes all 16 bytes of the union, as encodeAddress does, over a dirty buffer', () => {
    for (const [address, family] of [
      ['0.0.0.0', 'ipv4'],
      ['10.96.0.1', 'ipv4'],
      ['255.255.255.255', 'ipv4'],
      ['fd00::1', 'ipv6'],
      ['2001:db8::ff:1', 'ipv6'],
    ] as const) {
      const buf = Buffer.alloc(20, 0xaa);
      writeNormalizedAddress(buf, 2, address, family);
      expect(buf.subarray(2, 18)).toEqual(encodeAddress(address, 'a'));
      // Nothing outside its 16 bytes is touched.
      expect([buf[0], buf[1], buf[18], buf[19]]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
    }
  });
});
