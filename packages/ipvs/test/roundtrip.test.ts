import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import {
  normalizeDestinationSpec,
  normalizeServiceSpec,
  type ServiceSpec,
  type Stats,
  schedulers,
} from '../src/index';
import {
  constants,
  decodeDestination,
  decodeService,
  decodeStats64,
  NetlinkAttributeWriter,
  serviceFlagBits,
  writeDestinationSpec,
  writeServiceSpec,
} from '../src/netlink/index';

const canonical = (a: string) => ipaddr.parse(a).toString();

const flagsArb = fc.record({
  persistent: fc.boolean(),
  onePacket: fc.boolean(),
  shFallback: fc.boolean(),
  shPort: fc.boolean(),
});

const addrServiceArb: fc.Arbitrary<ServiceSpec> = fc
  .record({
    v6: fc.boolean(),
    v4: fc.ipV4(),
    v6addr: fc.ipV6(),
    protocol: fc.constantFrom('tcp' as const, 'udp' as const, 'sctp' as const),
    port: fc.integer({ min: 1, max: 65535 }),
    scheduler: fc.constantFrom(...schedulers),
    flags: flagsArb,
    timeout: fc.integer({ min: 0, max: 0xffffffff }),
    prefix4: fc.integer({ min: 0, max: 32 }),
    prefix6: fc.integer({ min: 1, max: 128 }),
  })
  .map((r) => ({
    protocol: r.protocol,
    address: r.v6 ? r.v6addr : r.v4,
    port: r.port,
    scheduler: r.scheduler,
    flags: r.flags,
    timeout: r.timeout,
    netmask: r.v6 ? r.prefix6 : r.prefix4,
  }));

const fwmarkServiceArb: fc.Arbitrary<ServiceSpec> = fc.record({
  fwmark: fc.integer({ min: 1, max: 0xffffffff }),
  family: fc.constantFrom('ipv4' as const, 'ipv6' as const),
  scheduler: fc.constantFrom(...schedulers),
  flags: flagsArb,
});

describe('codec round trips (fast-check)', () => {
  it('service spec → attributes → Service keeps every field', () => {
    fc.assert(
      fc.property(fc.oneof(addrServiceArb, fwmarkServiceArb), (spec) => {
        const n = normalizeServiceSpec(spec, serviceFlagBits);
        const w = new NetlinkAttributeWriter();
        writeServiceSpec(w, n);
        const svc = decodeService(w.toBuffer());
        expect(svc.family).toBe(n.key.family);
        expect(svc.scheduler).toBe(spec.scheduler);
        expect(svc.flagBits).toBe(serviceFlagBits(spec.flags));
        expect(svc.flags).toMatchObject(spec.flags ?? {});
        expect(svc.timeout).toBe(n.timeout);
        expect(svc.netmask).toBe(n.netmask);
        if (n.key.kind === 'fwmark') {
          expect(svc.fwmark).toBe(n.key.fwmark);
          expect(svc.address).toBeUndefined();
        } else {
          expect(svc.protocol).toBe(n.key.protocol);
          expect(svc.address).toBe(canonical(n.key.address));
          expect(svc.port).toBe(n.key.port);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('destination spec → attributes → Destination keeps every field', () => {
    const destArb = fc.record({
      address: fc.ipV4(),
      port: fc.integer({ min: 0, max: 65535 }),
      forwarding: fc.constantFrom(
        'masquerade' as const,
        'local' as const,
        'tunnel' as const,
        'direct-route' as const,
      ),
      weight: fc.integer({ min: 0, max: 0x7fffffff }),
      upperThreshold: fc.integer({ min: 0, max: 0xffffffff }),
      lowerThreshold: fc.integer({ min: 0, max: 0xffffffff }),
      tunnel: fc.option(
        fc.record({
          tunnelType: fc.constantFrom('ipip' as const, 'gue' as const, 'gre' as const),
          tunnelPort: fc.integer({ min: 0, max: 65535 }),
          tunnelFlags: fc.record({ checksum: fc.boolean(), remoteChecksum: fc.boolean() }),
        }),
      ),
    });
    const key = { kind: 'addr', family: 'ipv4', protocol: 'tcp', address: '10.0.0.1', port: 80 } as const;
    fc.assert(
      fc.property(destArb, ({ tunnel, ...d }) => {
        const spec = d.forwarding === 'tunnel' && tunnel ? { ...d, ...tunnel } : d;
        const n = normalizeDestinationSpec(spec, key);
        const w = new NetlinkAttributeWriter();
        writeDestinationSpec(w, n);
        const dest = decodeDestination(w.toBuffer(), 'ipv4');
        expect(dest).toMatchObject({
          address: d.address,
          port: d.port,
          family: 'ipv4',
          forwarding: d.forwarding,
          weight: d.weight,
          upperThreshold: d.upperThreshold,
          lowerThreshold: d.lowerThreshold,
        });
        if (spec !== d) expect(dest).toMatchObject(tunnel!);
      }),
      { numRuns: 300 },
    );
  });

  it('STATS64 counters survive the full u64 range', () => {
    const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    const names: (keyof Stats)[] = [
      'connections',
      'packetsIn',
      'packetsOut',
      'bytesIn',
      'bytesOut',
      'cps',
      'ppsIn',
      'ppsOut',
      'bpsIn',
      'bpsOut',
    ];
    fc.assert(
      fc.property(fc.array(u64, { minLength: 10, maxLength: 10 }), (values) => {
        const w = new NetlinkAttributeWriter();
        values.forEach((v, i) => {
          w.u64(i + 1, v);
        });
        w.bytes(constants.StatsAttr.PAD, Buffer.alloc(0));
        const stats = decodeStats64(w.toBuffer());
        expect(names.map((n) => stats[n])).toEqual(values);
      }),
    );
  });
});
