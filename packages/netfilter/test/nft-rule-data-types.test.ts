import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import { attributesByType } from '../src/nftables/netlink/attributes';
import {
  dataTypeId,
  encodeKey,
  encodeValue,
  keyLength,
  NFT_DATA_VERDICT_TYPE,
  NFTA_DATA_VALUE,
  NFTA_DATA_VERDICT,
  parseVerdict,
} from '../src/nftables/netlink/data-types';
import { elementDebugText, typeofToType } from '../src/nftables/netlink/rule/index';

// Element bytes as nft sends them (the expected text is nft --debug=netlink's, for kube-proxy's
// own elements); the real-nft oracle compares every element of the corpus the same way.

function element(keyType: string, key: string[], valueType?: string, value?: string[]): string {
  return elementDebugText({
    key: encodeKey(keyType, key),
    ...(valueType && value ? { value: encodeValue(valueType, value) } : {}),
  });
}

describe('data types', () => {
  it('encodes keys with concatenation parts 4-byte aligned, addresses and ports in network order', () => {
    expect(
      element('ipv4_addr . inet_proto . inet_service', ['10.96.0.10', 'tcp', '80'], 'verdict', ['goto svc']),
    ).toBe('\telement 0a00600a 00000006 00005000  : goto -> svc 0 [end]');
    expect(
      element(
        'ipv4_addr . inet_proto . inet_service . integer',
        ['10.96.0.30', 'tcp', '443', '1'],
        'ipv4_addr . inet_service',
        ['10.244.2.7', '8443'],
      ),
    ).toBe('\telement 1e00600a 00000006 0000bb01 00000001  : 0702f40a 0000fb20 0 [end]');
    expect(element('inet_proto . inet_service', ['udp', '30053'], 'verdict', ['drop'])).toBe(
      '\telement 00000011 00006575  : drop 0 [end]',
    );
    expect(encodeKey('ipv6_addr', ['fd00::1']).toString('hex')).toBe('fd000000000000000000000000000001');
    expect(encodeKey('ifname', ['eth0']).toString('hex')).toBe('65746830000000000000000000000000');
    expect(encodeKey('ether_addr', ['0a:0b:0c:0d:0e:0f']).toString('hex')).toBe('0a0b0c0d0e0f');
  });

  it('encodes verdicts as NFTA_DATA_VERDICT and values as NFTA_DATA_VALUE', () => {
    expect(attributesByType(encodeValue('verdict', ['accept'])).has(NFTA_DATA_VERDICT)).toBe(true);
    expect(
      attributesByType(encodeValue('ipv4_addr', ['1.2.3.4']))
        .get(NFTA_DATA_VALUE)
        ?.payload.toString('hex'),
    ).toBe('01020304');
    expect(parseVerdict('jump x')).toEqual({ kind: 'jump', chain: 'x' });
    expect(() => parseVerdict('jump')).toThrow(InvalidFieldError);
    expect(() => parseVerdict('break')).toThrow(InvalidFieldError);
  });

  it('gives datatype ids and key lengths as nft writes them into a set', () => {
    expect(dataTypeId('ipv4_addr')).toBe(7);
    expect(dataTypeId('ipv4_addr . inet_proto . inet_service')).toBe((((7 << 6) | 12) << 6) | 13);
    expect(dataTypeId('verdict')).toBe(NFT_DATA_VERDICT_TYPE);
    expect(keyLength('inet_proto')).toBe(1);
    expect(keyLength('ipv4_addr . inet_proto . inet_service')).toBe(12);
    expect(keyLength('ipv6_addr . ipv6_addr')).toBe(32);
  });

  it('resolves typeof expressions to their types', () => {
    expect(typeofToType('ip daddr . meta l4proto . th dport . numgen random mod 1', 'ip')).toBe(
      'ipv4_addr . inet_proto . inet_service . integer',
    );
    expect(typeofToType('ip6 daddr . tcp dport', 'ip6')).toBe('ipv6_addr . inet_service');
  });

  it('names the field and value it cannot encode', () => {
    expect(() => encodeKey('ipv4_addr', ['1.2.3'])).toThrow(
      /nft ipv4_addr value: "1.2.3" is not an IPv4 address/,
    );
    expect(() => encodeKey('ipv4_addr . inet_proto', ['1.2.3.4'])).toThrow(/has 1 parts, the type 2/);
    expect(() => encodeKey('inet_service', ['65536'])).toThrow(/larger than 65535/);
    expect(() => encodeKey('ifname', ['a-very-long-interface'])).toThrow(/longer than 15 bytes/);
    expect(() => encodeKey('frob', ['1'])).toThrow(/not a data type this library encodes/);
  });
});
