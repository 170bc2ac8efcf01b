import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endpointsFromSlices } from '../src/index';
import { CompactEndpoint, endpointHints, endpointPlace, NO_HINTS } from '../src/model/compact-endpoint';
import { compareStrings } from '../src/model/compare-strings';
import { compareEndpoints, type EndpointInfo, sameEndpoint } from '../src/model/endpoint';
import { lastChangeTriggerTime } from '../src/model/index';
import { joinHostPort } from '../src/model/ip-family';
import { packIPv4, unpackIPv4 } from '../src/model/packed-ipv4';
import { slice } from './fixtures';

describe('endpointsFromSlices', () => {
  it('applies the API nil rules for conditions', () => {
    const eps = endpointsFromSlices(
      [
        slice('web', [
          { ip: '10.0.0.1' },
          { ip: '10.0.0.2', ready: false },
          { ip: '10.0.0.3', ready: false, serving: true, terminating: true },
        ]),
      ],
      'IPv4',
      'n1',
    ).get('default/web:http')!;
    expect(eps.map((e) => [e.ip, e.ready, e.serving, e.terminating])).toEqual([
      ['10.0.0.1', true, true, false],
      ['10.0.0.2', false, false, false],
      ['10.0.0.3', false, true, true],
    ]);
    expect(eps[0]?.endpoint).toBe('10.0.0.1:8080');
  });

  it("keeps the family's addresses, packed or not, whichever way the family was told", () => {
    // A canonical dotted quad is taken as IPv4 by its packing; the other forms by ipFamilyOf.
    const addresses = ['10.0.0.1', '010.0.0.2', '::ffff:10.0.0.3', 'fd00::4', '10.0.0.256'];
    const endpoints = addresses.map((ip) => ({ ip }));
    const family = (f: 'IPv4' | 'IPv6') =>
      endpointsFromSlices([slice('web', endpoints, { addressType: f })], f, '')
        .get('default/web:http')
        ?.map((e) => e.ip);
    expect(family('IPv4')).toEqual(['010.0.0.2', '10.0.0.1', '::ffff:10.0.0.3']);
    expect(family('IPv6')).toEqual(['fd00::4']);
  });

  it('marks endpoints on our node local', () => {
    const eps = endpointsFromSlices(
      [
        slice('web', [
          { ip: '10.0.0.1', node: 'n1' },
          { ip: '10.0.0.2', node: 'n2' },
        ]),
      ],
      'IPv4',
      'n1',
    ).get('default/web:http')!;
    expect(eps.map((e) => e.isLocal)).toEqual([true, false]);
  });

  it('merges slices and de-duplicates a backend listed twice', () => {
    const eps = endpointsFromSlices(
      [
        slice('web', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], { name: 'web-a' }),
        slice('web', [{ ip: '10.0.0.2' }, { ip: '10.0.0.3' }], { name: 'web-b' }),
      ],
      'IPv4',
      '',
    ).get('default/web:http')!;
    expect(eps.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('gives for a single slice what the merge of several gives: sorted, duplicates once, empty ports left out', () => {
    const one = slice('web', [{ ip: '10.0.0.3', ready: false }, { ip: '10.0.0.1' }, { ip: '10.0.0.3' }]);
    const empty = slice('web', [], { name: 'web-z' });
    const single = endpointsFromSlices([one], 'IPv4', '');
    expect(single).toEqual(endpointsFromSlices([one, empty], 'IPv4', ''));
    const eps = single.get('default/web:http')!;
    // The first listing of 10.0.0.3 stays (not ready), as in the merge.
    expect(eps.map((e) => [e.ip, e.ready])).toEqual([
      ['10.0.0.1', true],
      ['10.0.0.3', false],
    ]);
    expect(Object.isFrozen(eps)).toBe(true);
    expect(endpointsFromSlices([empty], 'IPv4', '').size).toBe(0);
  });

  it('ignores slices of the other family and brackets IPv6 endpoints', () => {
    const v6 = slice('web', [{ ip: 'fd00::1' }], { addressType: 'IPv6' });
    expect(endpointsFromSlices([v6], 'IPv4', '').size).toBe(0);
    expect(endpointsFromSlices([v6], 'IPv6', '').get('default/web:http')?.[0]?.endpoint).toBe(
      '[fd00::1]:8080',
    );
  });

  it('carries zone and node hints', () => {
    const eps = endpointsFromSlices(
      [slice('web', [{ ip: '10.0.0.1', zone: 'a', zoneHints: ['a'], nodeHints: ['n1'] }])],
      'IPv4',
      '',
    ).get('default/web:http')!;
    expect(eps[0]?.zoneHints).toEqual(['a']);
    expect(eps[0]?.nodeHints).toEqual(['n1']);
    expect(eps[0]?.zone).toBe('a');
  });

  it('property: every field as the slice states it, the conditions packed in one number included', () => {
    // The model keeps endpoints as CompactEndpoint (flags and one hints reference behind getters).
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const spec = fc.record({
      local: fc.boolean(),
      ready: opt(fc.boolean()),
      serving: opt(fc.boolean()),
      terminating: opt(fc.boolean()),
      zone: opt(fc.constantFrom('a', 'b')),
      zoneHints: opt(fc.array(fc.constantFrom('a', 'b'), { minLength: 1, maxLength: 2 })),
      nodeHints: opt(fc.array(fc.constantFrom('n1', 'n2'), { minLength: 1, maxLength: 2 })),
    });
    fc.assert(
      fc.property(spec, (e) => {
        const [ep] = endpointsFromSlices(
          [slice('web', [{ ...e, ip: '10.0.0.1', node: e.local ? 'n1' : 'n2' }])],
          'IPv4',
          'n1',
        ).get('default/web:http')!;
        const ready = e.ready ?? true;
        expect([ep!.isLocal, ep!.ready, ep!.serving, ep!.terminating]).toEqual([
          e.local,
          ready,
          e.serving ?? ready,
          e.terminating ?? false,
        ]);
        expect([ep!.zone, ep!.nodeName, ep!.zoneHints, ep!.nodeHints]).toEqual([
          e.zone ?? '',
          e.local ? 'n1' : 'n2',
          e.zoneHints ?? [],
          e.nodeHints ?? [],
        ]);
        expect(Object.isFrozen(ep) && Object.isFrozen(ep!.zoneHints) && Object.isFrozen(ep!.nodeHints)).toBe(
          true,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('reads the last-change-trigger-time annotation', () => {
    const s = slice('web', [], {
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-02T03:04:05Z' },
    });
    expect(lastChangeTriggerTime(s)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(lastChangeTriggerTime(slice('web', []))).toBeUndefined();
  });
});

describe('compareEndpoints', () => {
  const plain = (ip: string, port: number) =>
    ({ ip, port, endpoint: joinHostPort(ip, port) }) as EndpointInfo;
  // The model's records (IPv4 kept as bits) and plain objects must order alike.
  const record = (ip: string, port: number) =>
    new CompactEndpoint(ip, port, 0, endpointPlace('n', '', NO_HINTS));
  let useRecords = false;
  const at = (ip: string, port: number) => (useRecords ? record(ip, port) : plain(ip, port));
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const v6 = fc
    .array(fc.nat(0xffff), { minLength: 1, maxLength: 3 })
    .map((g) => `fd00::${g.map((x) => x.toString(16)).join(':')}`);
  const port = fc.integer({ min: 1, max: 65535 });

  it.each([false, true])(
    'orders as the "ip:port" texts do, without building them (records: %s)',
    (records) => {
      useRecords = records;
      fc.assert(
        fc.property(fc.oneof(v4, v6), port, fc.oneof(v4, v6), port, (ia, pa, ib, pb) => {
          const a = at(ia, pa);
          const b = at(ib, pb);
          expect(Math.sign(compareEndpoints(a, b))).toBe(Math.sign(compareStrings(a.endpoint, b.endpoint)));
          expect(sameEndpoint(a, b)).toBe(a.endpoint === b.endpoint);
          expect([a.ip, b.ip]).toEqual([ia, ib]);
        }),
        { numRuns: 2000 },
      );
      // Prefixes, where the character after the address decides.
      for (const [x, y] of [
        ['10.0.0.1', '10.0.0.10'],
        ['10.0.0.1', '10.0.0.1'],
        ['fd00::1', 'fd00::1:2'],
        ['fd00::1', 'fd00::10'],
        ['1.2.3.4', '1.2.3.40'],
        ['1.2.3.4', '1.2.30.4'],
        ['010.0.0.1', '10.0.0.1'],
      ] as const)
        for (const [p, q] of [
          [80, 80],
          [80, 8080],
          [9, 80],
        ] as const)
          expect(Math.sign(compareEndpoints(at(x, p), at(y, q)))).toBe(
            Math.sign(compareStrings(joinHostPort(x, p), joinHostPort(y, q))),
          );
    },
  );

  it('orders every pair of octets, inside the address and last, as their texts do', () => {
    const place = endpointPlace('n', '', NO_HINTS);
    const misordered: string[] = [];
    for (let x = 0; x < 256; x++)
      for (let y = 0; y < 256; y++)
        for (const [a, b] of [
          [`10.${x}.0.1`, `10.${y}.0.1`],
          [`10.0.0.${x}`, `10.0.0.${y}`],
        ] as const) {
          const byText = Math.sign(compareStrings(joinHostPort(a, 80), joinHostPort(b, 80)));
          const byRecord = compareEndpoints(
            new CompactEndpoint(a, 80, 0, place),
            new CompactEndpoint(b, 80, 0, place),
          );
          if (Math.sign(byRecord) !== byText) misordered.push(`${a} ${b}`);
        }
    expect(misordered).toEqual([]);
  });
});

describe('endpointPlace', () => {
  it('shares one place per node and zone, gives hinted endpoints their own, and stays right past its cap', () => {
    const a = endpointPlace('node-1', 'z1', NO_HINTS);
    expect(endpointPlace('node-1', 'z1', NO_HINTS)).toBe(a);
    expect(endpointPlace('node-1', 'z2', NO_HINTS)).not.toBe(a);
    const hints = endpointHints(['z1'], []);
    const hinted = endpointPlace('node-1', 'z1', hints);
    expect(hinted).not.toBe(a);
    expect(hinted).toEqual({ nodeName: 'node-1', zone: 'z1', hints });
    for (let i = 0; i < 20_000; i++) expect(endpointPlace(`n-${i}`, '', NO_HINTS).nodeName).toBe(`n-${i}`);
    expect(endpointPlace('node-1', 'z1', NO_HINTS)).toEqual(a);
  });

  it('is what an endpoint reads its node, zone and hints from', () => {
    const ep = new CompactEndpoint('10.0.0.1', 8080, 0, endpointPlace('node-7', 'zone-a', NO_HINTS));
    expect([ep.nodeName, ep.zone, ep.zoneHints, ep.nodeHints, ep.port, ep.endpoint]).toEqual([
      'node-7',
      'zone-a',
      [],
      [],
      8080,
      '10.0.0.1:8080',
    ]);
  });
});

describe('packIPv4', () => {
  it('packs canonical dotted quads one-to-one and leaves every other text alone', () => {
    fc.assert(
      fc.property(fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)), (o) => {
        const ip = o.join('.');
        const bits = packIPv4(ip);
        expect(bits).toBeDefined();
        expect(unpackIPv4(bits!)).toBe(ip);
      }),
    );
    expect(packIPv4('255.255.255.255')).toBe(-1);
    for (const ip of [
      '010.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '1.2.3.256',
      '1..2.3',
      '1.2.3.4.',
      'fd00::1',
      '::ffff:1.2.3.4',
      ' 1.2.3.4',
      '1.2.3.4a',
    ])
      expect(packIPv4(ip)).toBeUndefined();
    const odd = new CompactEndpoint('010.0.0.1', 80, 0, endpointPlace('n', '', NO_HINTS));
    expect([odd.ip, odd.endpoint, odd.ipv4Bits]).toEqual(['010.0.0.1', '010.0.0.1:80', undefined]);
  });
});
