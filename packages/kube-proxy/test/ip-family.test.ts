import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipFamilyOf } from '../src/model/ip-family';
import { packIPv4 } from '../src/model/packed-ipv4';

describe('ipFamilyOf (netutils.IPFamilyOfString / IPFamilyOfCIDRString)', () => {
  it('plain addresses and CIDRs', () => {
    expect(ipFamilyOf('10.1.2.3')).toBe('IPv4');
    expect(ipFamilyOf('2001:db8::1')).toBe('IPv6');
    expect(ipFamilyOf('10.0.0.0/8')).toBe('IPv4');
    expect(ipFamilyOf('2001:db8::/64')).toBe('IPv6');
    expect(ipFamilyOf('::')).toBe('IPv6');
  });

  it('takes an address packIPv4 packs as IPv4 without isIP: the two accept the same dotted quads', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 300 }).map(String),
      fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`),
      fc.constantFrom('', 'x', '-1', '1 '),
    );
    fc.assert(
      fc.property(fc.array(octet, { minLength: 1, maxLength: 5 }), (octets) => {
        const text = octets.join('.');
        expect(packIPv4(text) !== undefined).toBe(isIP(text) === 4);
        if (isIP(text) === 4) expect(ipFamilyOf(text)).toBe('IPv4');
      }),
      { numRuns: 5000 },
    );
  });

  it('an IPv4-mapped IPv6 address is IPv4, in dotted or hex form (Go To4)', () => {
    expect(ipFamilyOf('::ffff:1.2.3.4')).toBe('IPv4');
    expect(ipFamilyOf('::FFFF:102:304')).toBe('IPv4');
    expect(ipFamilyOf('0:0:0:0:0:ffff:1.2.3.4')).toBe('IPv4');
    // ffff elsewhere, or an IPv4-compatible (not mapped) address, stays IPv6.
    expect(ipFamilyOf('ffff::1')).toBe('IPv6');
    expect(ipFamilyOf('::1.2.3.4')).toBe('IPv6');
    expect(ipFamilyOf('64:ff9b::1.2.3.4')).toBe('IPv6');
  });

  it('an IPv4-mapped CIDR is IPv4 only while its prefix keeps the ffff group (Go masks it)', () => {
    expect(ipFamilyOf('::ffff:10.0.0.0/104')).toBe('IPv4');
    expect(ipFamilyOf('::ffff:0.0.0.0/96')).toBe('IPv4');
    expect(ipFamilyOf('::ffff:10.0.0.0/95')).toBe('IPv6');
    expect(ipFamilyOf('::ffff:10.0.0.0/64')).toBe('IPv6');
  });

  it('reads IPv4 sloppily, as ParseIPSloppy: leading zeros are decimal, not rejected', () => {
    expect(ipFamilyOf('010.001.002.003')).toBe('IPv4');
    expect(ipFamilyOf('010.0.0.0/8')).toBe('IPv4');
    expect(ipFamilyOf('::ffff:010.1.2.3')).toBe('IPv4');
  });

  it('text Go does not parse has no family', () => {
    for (const bad of [
      '',
      'x',
      '10.1',
      '0x0a.0.0.1',
      '256.1.1.1',
      'fe80::1%eth0',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/',
    ]) {
      expect([bad, ipFamilyOf(bad)]).toEqual([bad, undefined]);
    }
  });
});
