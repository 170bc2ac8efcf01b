import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base32,
  endpointProbability,
  endpointString,
  formatProbability,
  masqueradeMark,
  portProtoHash,
  serviceExternalChainName,
  serviceFirewallChainName,
  serviceLocalChainName,
  servicePortChainName,
  servicePortEndpointChainName,
  servicePortName,
} from '../src/iptables/index';
import {
  endpointChainBase,
  hashAndTruncate,
  nftChainName,
  nftServicePortChainName,
  servicePortChainBase,
} from '../src/nftables/index';

describe('iptables chain names (upstream kube-proxy)', () => {
  it('matches the upstream vector ns1/svc1:p80 + tcp', () => {
    const name = servicePortName('ns1', 'svc1', 'p80');
    expect(name).toBe('ns1/svc1:p80');
    expect(portProtoHash(name, 'TCP')).toBe('XPGD46QRK7WJZT7O');
    expect(servicePortChainName(name, 'tcp')).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(serviceLocalChainName(name, 'tcp')).toBe('KUBE-SVL-XPGD46QRK7WJZT7O');
    expect(serviceExternalChainName(name, 'tcp')).toBe('KUBE-EXT-XPGD46QRK7WJZT7O');
    expect(serviceFirewallChainName(name, 'tcp')).toBe('KUBE-FW-XPGD46QRK7WJZT7O');
  });

  it('omits the colon for an unnamed port and fits the 28-char limit', () => {
    expect(servicePortName('ns', 'svc')).toBe('ns/svc');
    const chain = servicePortChainName('ns/svc', 'udp');
    expect(chain).toMatch(/^KUBE-SVC-[A-Z2-7]{16}$/);
    expect(chain).not.toBe(servicePortChainName('ns/svc', 'tcp'));
    expect(chain.length).toBeLessThanOrEqual(28);
  });

  it('hashes endpoints as host:port with IPv6 in brackets', () => {
    expect(endpointString('10.180.0.1', 80)).toBe('10.180.0.1:80');
    expect(endpointString('fd00::1', 80)).toBe('[fd00::1]:80');
    const sep = servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80');
    const expected = base32(createHash('sha256').update('ns1/svc1:p80tcp10.180.0.1:80').digest()).slice(
      0,
      16,
    );
    expect(sep).toBe(`KUBE-SEP-${expected}`);
  });

  it('base32 matches RFC 4648 test vectors', () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    expect(enc('')).toBe('');
    expect(enc('f')).toBe('MY======');
    expect(enc('fo')).toBe('MZXQ====');
    expect(enc('foob')).toBe('MZXW6YQ=');
    expect(enc('foobar')).toBe('MZXW6YTBOI======');
  });

  it('spreads endpoints with 10-decimal probabilities 1/(N-i)', () => {
    const probabilities = [0, 1, 2, 3].map((i) => formatProbability(endpointProbability(i, 4)));
    expect(probabilities).toEqual(['0.2500000000', '0.3333333333', '0.5000000000', '1.0000000000']);
  });

  it('renders the masquerade mark like Go %#08x', () => {
    expect(masqueradeMark()).toEqual({ value: 0x4000, text: '0x00004000' });
    expect(masqueradeMark(0).text).toBe('0x00000001');
  });
});

describe('nftables chain names (upstream kube-proxy)', () => {
  it('prefixes an 8-char hash of the name', () => {
    const base = servicePortChainBase('ns1', 'svc1', 'TCP', 'p80');
    expect(base).toBe('ns1/svc1/tcp/p80');
    const hash = base32(createHash('sha256').update(base).digest()).slice(0, 8);
    expect(nftServicePortChainName(base)).toBe(`service-${hash}-ns1/svc1/tcp/p80`);
    expect(endpointChainBase('ns1', 'svc1', 'tcp', 'p80', 'fd00::1', 80)).toBe(
      'ns1/svc1/tcp/p80__fd00..1/80',
    );
  });

  it('truncates over-long names with "..." while keeping the hash', () => {
    const long = 'x'.repeat(300);
    const cut = hashAndTruncate(long);
    expect(cut.length).toBe(240);
    expect(cut.endsWith('...')).toBe(true);
    // Names that differ only past the cut still differ, through the hash.
    expect(hashAndTruncate(`${long}y`)).not.toBe(cut);
    expect(hashAndTruncate(`${long}y`).slice(9)).toBe(cut.slice(9));
    expect(nftChainName('endpoint', long).length).toBeLessThanOrEqual(256);
  });
});
