import { describe, expect, it } from 'vitest';
import { cidrContains } from '../src/model/cidr';
import { ipValidationErrors, parseCIDRSloppy, parseIPSloppy } from '../src/model/parse-ip';

describe('parseIPSloppy (upstream netutils.ParseIPSloppy)', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['010.001.002.003', '10.1.2.3'], // leading zeros are decimal, not octal
    ['0255.00.0.0009', '255.0.0.9'],
    ['2001:db8::1', '2001:db8::1'],
    ['::ffff:1.2.3.4', '::ffff:102:304'],
    ['::ffff:001.002.003.004', '::ffff:102:304'],
    ['::', '::'],
  ])('reads %s as %s', (text, expected) => {
    expect(parseIPSloppy(text)?.toString()).toBe(expected);
  });

  it.each([
    '256.0.0.1',
    '1.2.3',
    '10.1',
    '0x0a.0.0.1',
    '1.2.3.4.5',
    '1.2.3.-4',
    ' 1.2.3.4',
    'fe80::1%eth0',
    '2001:db8::g',
    '1:2:3:4:5:6:7:8:9',
    '::ffff:1.2.3.256',
    '',
  ])('rejects %j', (text) => {
    expect(parseIPSloppy(text)).toBeUndefined();
  });
});

describe('parseCIDRSloppy (upstream netutils.ParseCIDRSloppy)', () => {
  it('keeps the address as written and reads the prefix as decimal', () => {
    const cidr = parseCIDRSloppy('010.0.0.1/08');
    expect(cidr?.address.toString()).toBe('10.0.0.1');
    expect(cidr?.bits).toBe(8);
  });

  it('bounds the prefix by the text family: 32 for IPv4, 128 for IPv6 including IPv4-mapped', () => {
    expect(parseCIDRSloppy('10.0.0.0/32')?.bits).toBe(32);
    expect(parseCIDRSloppy('10.0.0.0/33')).toBeUndefined();
    expect(parseCIDRSloppy('::ffff:10.0.0.0/104')?.bits).toBe(104);
    expect(parseCIDRSloppy('::/128')?.bits).toBe(128);
    expect(parseCIDRSloppy('::/129')).toBeUndefined();
    expect(parseCIDRSloppy('10.0.0.0')).toBeUndefined();
    expect(parseCIDRSloppy('10.0.0.0/')).toBeUndefined();
    expect(parseCIDRSloppy('10.0.0.0/-1')).toBeUndefined();
    expect(parseCIDRSloppy('10.0.0.0/8/8')).toBeUndefined();
  });
});

describe('cidrContains (Go IPNet.Contains)', () => {
  it.each([
    ['10.0.0.0/8', '10.255.0.1', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true], // IPv4-mapped IPv6 is its IPv4 address
    ['10.0.0.0/8', '::ffff:11.1.2.3', false],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true], // the mapped CIDR covers 10.0.0.0/8
    ['::ffff:10.0.0.0/104', '11.1.2.3', false],
    ['::ffff:0.0.0.0/96', '1.2.3.4', true],
    ['::/0', '::ffff:1.2.3.4', false], // Go compares the mapped address as IPv4
    ['::/0', '1.2.3.4', false],
    ['0.0.0.0/0', '::1', false],
    ['0.0.0.0/0', '1.2.3.4', true],
    ['10.0.0.0/8', '010.001.002.003', true], // 10.1.2.3, not octal 8.1.2.3
    ['8.0.0.0/8', '010.0.0.1', false],
    ['010.0.0.0/8', '10.9.9.9', true],
    ['127.0.0.0/8', '127.0.0.1', true],
    ['2001:db8::/32', '2001:db8:1::5', true],
    ['2001:db8::/32', '2001:db9::5', false],
    ['10.0.0.1/32', '10.0.0.1', true],
    ['10.0.0.0/33', '10.0.0.1', false],
    ['not-a-cidr', '10.0.0.1', false],
    ['10.0.0.0/8', 'not-an-ip', false],
  ])('%s contains %s: %s', (cidr, ip, expected) => {
    expect(cidrContains(cidr, ip)).toBe(expected);
  });
});

describe('ipValidationErrors (apimachinery IsValidIPForLegacyField)', () => {
  it('accepts leading zeros and IPv4-mapped IPv6 without strict validation', () => {
    expect(ipValidationErrors('010.1.2.3', false)).toEqual([]);
    expect(ipValidationErrors('::ffff:1.2.3.4', false)).toEqual([]);
  });

  it('rejects them with strict validation, one message per problem', () => {
    expect(ipValidationErrors('010.1.2.3', true)).toEqual(['must not have leading 0s']);
    expect(ipValidationErrors('::ffff:1.2.3.4', true)).toEqual(['must not be an IPv4-mapped IPv6 address']);
    expect(ipValidationErrors('::ffff:01.2.3.4', true)).toEqual([
      'must not have leading 0s',
      'must not be an IPv4-mapped IPv6 address',
    ]);
    expect(ipValidationErrors('10.1.2.3', true)).toEqual([]);
    expect(ipValidationErrors('0.0.0.0', true)).toEqual([]);
  });

  it('names what a valid address looks like for text that is none', () => {
    expect(ipValidationErrors('10.1.2', false)).toEqual([
      'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });
});
