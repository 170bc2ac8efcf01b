import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import { IncrementalNftTable, type NftContribution } from '../src/nftables/index';
import { keyCodec, writeKey, writeKeyText } from '../src/nftables/netlink/data-types';
import { type EncodeContext, encodeOperations } from '../src/nftables/netlink/encode';
import { compileRule } from '../src/nftables/netlink/rule/index';

// The full-sync fast path (NetlinkNftablesClient.runTable): a table's elements encoded from
// their text must be the very bytes the same elements give as objects.

const context = (): EncodeContext => ({ family: 'ip', table: 'kube-proxy', sets: new Map(), compileRule });

const base: NftContribution = {
  chains: [
    {
      chain: { kind: 'chain', name: 'services', type: 'nat', hook: 'prerouting', priority: -100 },
      rules: [{ rule: 'ip daddr . meta l4proto . th dport vmap @service-ips' }],
    },
    { chain: { kind: 'chain', name: 'endpoints-2' }, rules: [{ rule: 'counter' }] },
  ],
  sets: [
    { kind: 'map', name: 'service-ips', type: 'ipv4_addr . inet_proto . inet_service', valueType: 'verdict' },
    {
      kind: 'map',
      name: 'service-endpoints',
      type: 'ipv4_addr . inet_proto . inet_service . integer',
      valueType: 'ipv4_addr . inet_service',
    },
    { kind: 'set', name: 'cluster-ips', type: 'ipv4_addr', comment: 'Active ClusterIPs' },
    { kind: 'set', name: 'affinity', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h' },
    { kind: 'map', name: 'mark-map', type: 'mark', valueType: 'ipv4_addr' },
    { kind: 'set', name: 'ifaces', type: 'ifname' },
  ],
};

function service(i: number): NftContribution {
  const ip = `10.96.${i >> 8}.${i & 255}`;
  return {
    elements: [
      {
        kind: 'element',
        container: 'service-ips',
        key: [ip, i % 2 ? 'udp' : 'tcp', String(80 + i)],
        value: ['goto endpoints-2'],
        ...(i % 3 === 0 ? { comment: `ns/svc-${i}:http` } : {}),
      },
      ...[0, 1].map((slot) => ({
        kind: 'element' as const,
        container: 'service-endpoints',
        key: [ip, 'sctp', '443', String(slot)],
        value: [`10.128.${i >> 8}.${(i & 127) * 2 + slot}`, '8443'],
      })),
      { kind: 'element', container: 'cluster-ips', key: [ip], ...(i === 2 ? { comment: 'two' } : {}) },
      ...(i === 1 ? [{ kind: 'element' as const, container: 'affinity', key: [ip], timeout: '10m' }] : []),
      { kind: 'element', container: 'mark-map', key: [`0x${(0x4000 + i).toString(16)}`], value: [ip] },
      ...(i === 0 ? [{ kind: 'element' as const, container: 'ifaces', key: ['eth0'] }] : []),
    ],
  };
}

const bytes = (items: { type: number; flags: number; attributes: Buffer }[]) =>
  items.map((i) => `${i.type}/${i.flags}/${i.attributes.toString('hex')}`);

describe('elements encoded from their text (runTable)', () => {
  it("a table's full transaction and its structure plus element texts encode to the same messages", () => {
    const table = new IncrementalNftTable({ kind: 'table', comment: 'rules for kube-proxy' });
    table.set('base', base);
    // Enough elements that the element lists split over several messages.
    for (let i = 0; i < 1500; i++) table.set(`svc-${i}`, service(i));
    const asObjects = encodeOperations(table.fullTransaction().operations, context()).batch.items();
    const structure = table.fullStructure();
    const asText = encodeOperations(structure.operations, context(), (visit) =>
      table.forEachElementText(visit),
    ).batch.items();
    expect(asObjects.length).toBeGreaterThan(structure.size + 6);
    expect(bytes(asText)).toEqual(bytes(asObjects));
  });

  it('a key text writes the bytes of its parts (ipv4, protocol, port, integer, mark)', () => {
    const codec = keyCodec('ipv4_addr . inet_proto . inet_service . integer . mark');
    const part = fc.tuple(
      fc.ipV4(),
      fc.oneof(fc.constantFrom('tcp', 'udp', 'sctp', 'icmp'), fc.nat(255).map(String)),
      fc.oneof(fc.nat(65535).map(String), fc.constantFrom('http', 'https')),
      fc.nat(0xffffffff).map(String),
      fc.oneof(
        fc.nat(0xffffffff).map(String),
        fc.nat(0xffffffff).map((n) => `0x${n.toString(16)}`),
      ),
    );
    fc.assert(
      fc.property(part, (parts) => {
        const viaParts = Buffer.alloc(codec.length + 8, 0xee);
        const viaText = Buffer.alloc(codec.length + 8, 0xee);
        writeKey(codec, parts, viaParts, 4);
        writeKeyText(codec, parts.join(' . '), viaText, 4);
        expect(viaText.toString('hex')).toBe(viaParts.toString('hex'));
      }),
    );
  });

  it('a key text with too few or too many parts, or a bad part, is a typed error', () => {
    const codec = keyCodec('ipv4_addr . inet_service');
    const out = Buffer.alloc(16);
    for (const text of ['10.0.0.1', '10.0.0.1 . 80 . 3']) {
      const err = (() => {
        try {
          writeKeyText(codec, text, out, 0);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(InvalidFieldError);
      expect((err as InvalidFieldError).message).toContain('ipv4_addr . inet_service');
    }
    expect(() => writeKeyText(codec, '10.0.0.300 . 80', out, 0)).toThrow(InvalidFieldError);
    expect(() => writeKeyText(codec, '10.0.0.1 . 70000', out, 0)).toThrow(InvalidFieldError);
  });
});
