import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFieldError } from '../src/errors';
import { IncrementalNftTable, type NftContribution } from '../src/nftables/index';
import { keyCodec, writeKey, writeKeyText } from '../src/nftables/netlink/data-types';
import { type EncodeContext, encodeOperations } from '../src/nftables/netlink/encode';
import { writePackedKey } from '../src/nftables/netlink/packed-key';
import { compileRule } from '../src/nftables/netlink/rule/index';
import { CharCodes } from '../src/nftables/packed-parts';

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

/** A canonical dotted quad (what the packing keeps as 4 bytes). */
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
/** A canonical decimal up to `max`. */
const decimal = (text: string, max: number) => /^(?:0|[1-9]\d*)$/.test(text) && Number(text) <= max;

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
    // Packed (forEachPackedElement): written from the packed strings, the verdict map's
    // comments too (service-ips), other comments and timeouts through the texts; the same
    // messages, operation texts too.
    const packed = encodeOperations(structure.operations, context(), undefined, (visit) =>
      table.forEachPackedElement(visit),
    ).batch.items();
    expect(bytes(packed)).toEqual(bytes(asObjects));
    expect(packed.map((m) => m.operation)).toEqual(asText.map((m) => m.operation));
  });

  it('a packed key writes the bytes of its text, or leaves it to the text path', () => {
    const codec = keyCodec('ipv4_addr . inet_proto . inet_service . integer . mark . ipv4_addr');
    const part = fc.tuple(
      fc.oneof(fc.ipV4(), fc.constantFrom('010.0.0.1', '10.0.0.256', '1.2.3', ' 10.0.0.1')),
      fc.oneof(fc.constantFrom('tcp', 'udp', 'sctp', 'icmp', '300', '06'), fc.nat(255).map(String)),
      fc.oneof(fc.nat(65535).map(String), fc.constantFrom('http', '080', '70000')),
      fc.nat(0xffffffff).map(String),
      fc.oneof(
        fc.nat(0xffffffff).map(String),
        fc.nat(0xffffffff).map((n) => `0x${n.toString(16)}`),
      ),
      fc.constantFrom('same', '10.1.2.3'),
    );
    // Canonical addresses, protocol names or numbers, ports: the forms the fast path writes.
    const isCanonical = ([ip, proto, port, , , last]: string[]) =>
      DOTTED_QUAD.test(ip as string) &&
      DOTTED_QUAD.test(last as string) &&
      (['tcp', 'udp', 'sctp', 'icmp'].includes(proto as string) || decimal(proto as string, 255)) &&
      decimal(port as string, 65535);
    fc.assert(
      fc.property(part, ([ip, proto, port, n, mark, last]) => {
        const parts = [ip, proto, port, n, mark, last === 'same' ? ip : last];
        const text = parts.join(' . ');
        const packed = new CharCodes().packParts(parts).toString();
        const viaText = Buffer.alloc(codec.length + 8, 0xee);
        let textError: unknown;
        try {
          writeKeyText(codec, text, viaText, 4);
        } catch (e) {
          textError = e;
        }
        const viaPacked = Buffer.alloc(codec.length + 8, 0xee);
        let written: boolean;
        try {
          written = writePackedKey(codec, packed, 0, viaPacked, 4);
        } catch {
          written = false;
        }
        if (written) {
          expect(textError).toBeUndefined();
          expect(viaPacked.subarray(4, 4 + codec.length).toString('hex')).toBe(
            viaText.subarray(4, 4 + codec.length).toString('hex'),
          );
        }
        if (isCanonical(parts)) expect(written).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a bad element fails with the same error whether encoded from text or packed', () => {
    const table = new IncrementalNftTable();
    table.set('base', { sets: base.sets ?? [] });
    const bad: NftContribution['elements'][] = [
      [
        {
          kind: 'element',
          container: 'service-endpoints',
          key: ['10.0.0.300', 'tcp', '80', '0'],
          value: ['10.0.0.1', '80'],
        },
      ],
      [{ kind: 'element', container: 'service-endpoints', key: ['10.0.0.1', 'tcp', '80', '0'] }],
      [{ kind: 'element', container: 'cluster-ips', key: ['10.0.0.1'], value: ['10.0.0.2'] }],
      [{ kind: 'element', container: 'service-ips', key: ['10.0.0.1', 'tcp'], value: ['goto x'] }],
      [{ kind: 'element', container: 'service-ips', key: ['10.0.0.1', 'tcp', '80'], value: ['bounce x'] }],
      // A verdict map's comment is written from the packed form: its errors are the text path's.
      [
        {
          kind: 'element',
          container: 'service-ips',
          key: ['10.0.0.1', 'tcp', '80'],
          value: ['goto endpoints-2'],
          comment: 'x'.repeat(200),
        },
      ],
      [{ kind: 'element', container: 'service-ips', key: ['10.0.0.1', 'tcp', '80'], comment: 'no value' }],
    ];
    for (const elements of bad) {
      table.set('bad', { elements });
      const structure = table.fullStructure();
      const failure = (packed: boolean) => {
        try {
          encodeOperations(
            structure.operations,
            context(),
            packed ? undefined : (visit) => table.forEachElementText(visit),
            packed ? (visit) => table.forEachPackedElement(visit) : undefined,
          );
        } catch (e) {
          return e;
        }
        return undefined;
      };
      const fromText = failure(false);
      expect(fromText).toBeInstanceOf(InvalidFieldError);
      expect(failure(true)).toEqual(fromText);
      expect((failure(true) as Error).message).toBe((fromText as Error).message);
    }
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
