import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { IncrementalNftTable } from '../../src/nftables/incremental-table';
import type { NftFamily } from '../../src/nftables/model';
import { AttributeWriter, readAttributes } from '../../src/nftables/netlink/attributes';
import { NFPROTO, NftaSetElem, NftaSetElemList, NftMsg } from '../../src/nftables/netlink/constants';
import { decodeSet } from '../../src/nftables/netlink/decode';
import { NftBatchTooLargeError, NftKernelError } from '../../src/nftables/netlink/errors';
import { nftMessageType } from '../../src/nftables/netlink/message';
import { NetnsChannel } from '../../src/nftables/netlink/netns-channel';
import { NfnetlinkSession } from '../../src/nftables/netlink/session';
import { NftTransaction } from '../../src/nftables/transaction';
import { parseListing } from './nft-listing';
import { listRuleset, type Netns, NetnsScope, oraclePair } from './nft-netlink-harness';

// Oracle: every transaction applied over netlink in one namespace and with `nft -f` in another
// must leave byte-identical `nft list ruleset` output (element expiry times aside).

const HANG_GUARD = 120_000;

function kubeLikeSetup(): NftTransaction {
  return new NftTransaction()
    .add({ kind: 'table', comment: 'rules for kube-proxy' })
    .add({
      kind: 'chain',
      name: 'nat-prerouting',
      type: 'nat',
      hook: 'prerouting',
      priority: 'dstnat',
      policy: 'accept',
    })
    .add({ kind: 'chain', name: 'nat-output', type: 'nat', hook: 'output', priority: -100, policy: 'accept' })
    .add({ kind: 'chain', name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 'srcnat' })
    .add({
      kind: 'chain',
      name: 'filter-input',
      type: 'filter',
      hook: 'input',
      priority: 'filter - 10',
      policy: 'accept',
    })
    .add({
      kind: 'chain',
      name: 'filter-forward',
      type: 'filter',
      hook: 'forward',
      priority: -110,
      policy: 'drop',
    })
    .add({ kind: 'chain', name: 'services', comment: 'dispatch to services' })
    .add({ kind: 'chain', name: 'service-ULMVA6XW-ns1/svc1/tcp/p80' })
    .add({ kind: 'chain', name: 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80' })
    .add({
      kind: 'map',
      name: 'service-ips',
      type: 'ipv4_addr . inet_proto . inet_service',
      valueType: 'verdict',
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    })
    .add({ kind: 'map', name: 'service-nodeports', type: 'inet_proto . inet_service', valueType: 'verdict' })
    .add({ kind: 'set', name: 'cluster-ips', type: 'ipv4_addr', comment: 'Active ClusterIPs' })
    .add({ kind: 'set', name: 'nodeport-ips', type: 'ipv4_addr', size: 65535 })
    .add({ kind: 'set', name: 'affinity-x', type: 'ipv4_addr', flags: ['dynamic', 'timeout'], timeout: '3h' })
    .add({ kind: 'map', name: 'mark-map', type: 'mark', valueType: 'ipv4_addr' })
    .add({ kind: 'set', name: 'ifaces', type: 'ifname', flags: ['constant'] })
    .add({
      kind: 'map',
      name: 'dnat-to',
      type: 'ipv4_addr . inet_service',
      valueType: 'ipv4_addr . inet_service',
    })
    .add({
      kind: 'element',
      container: 'service-ips',
      key: ['172.30.0.41', 'tcp', '80'],
      value: ['goto service-ULMVA6XW-ns1/svc1/tcp/p80'],
      comment: 'ns1/svc1:p80',
    })
    .add({
      kind: 'element',
      container: 'service-ips',
      key: ['172.30.0.42', 'udp', '53'],
      value: ['jump services'],
    })
    .add({ kind: 'element', container: 'service-ips', key: ['172.30.0.43', 'sctp', '9'], value: ['drop'] })
    .add({ kind: 'element', container: 'service-nodeports', key: ['tcp', '30080'], value: ['accept'] })
    .add({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.41'] })
    .add({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.42'], comment: 'second' })
    .add({ kind: 'element', container: 'nodeport-ips', key: ['192.168.1.10'] })
    .add({ kind: 'element', container: 'affinity-x', key: ['10.0.0.9'], timeout: '10m' })
    .add({ kind: 'element', container: 'mark-map', key: ['0x4000'], value: ['10.1.2.3'] })
    .add({ kind: 'element', container: 'ifaces', key: ['eth0'] })
    .add({ kind: 'element', container: 'dnat-to', key: ['10.0.0.1', '80'], value: ['10.180.0.1', '8080'] });
}

/**
 * Every object of the namespace's `family table` as the kernel dumps it, attribute bytes in hex:
 * the table, chains, sets and maps (anonymous ones too), their elements (expiry times, which
 * tick, left out) and rules.
 */
async function rawDump(ns: Netns, family: NftFamily, table: string): Promise<Record<string, string[]>> {
  const session = new NfnetlinkSession(await NetnsChannel.open(ns.path));
  const nfproto = NFPROTO[family];
  const hex = (bodies: Buffer[]) => bodies.map((b) => b.toString('hex')).sort();
  try {
    const setBodies = await session.dump(nftMessageType(NftMsg.GETSET), nfproto, Buffer.alloc(0));
    const out: Record<string, string[]> = {
      tables: hex(await session.dump(nftMessageType(NftMsg.GETTABLE), nfproto, Buffer.alloc(0))),
      chains: hex(await session.dump(nftMessageType(NftMsg.GETCHAIN), nfproto, Buffer.alloc(0))),
      sets: hex(setBodies),
      rules: hex(await session.dump(nftMessageType(NftMsg.GETRULE), nfproto, Buffer.alloc(0))),
    };
    for (const set of setBodies.map((body) => decodeSet(body, family).set.name)) {
      const bodies = await session.dump(
        nftMessageType(NftMsg.GETSETELEM),
        nfproto,
        new AttributeWriter()
          .string(NftaSetElemList.TABLE, table)
          .string(NftaSetElemList.SET, set)
          .toBuffer(),
      );
      // Hash sets dump in hash order, which differs between namespaces.
      out[`elements of ${set}`] = bodies
        .flatMap((body) =>
          readAttributes(body.subarray(4))
            .filter((a) => a.type === NftaSetElemList.ELEMENTS)
            .flatMap((list) =>
              readAttributes(list.payload).map((element) =>
                readAttributes(element.payload)
                  .filter((a) => a.type !== NftaSetElem.EXPIRATION)
                  .map((a) => `${a.type}:${a.payload.toString('hex')}`)
                  .join(' '),
              ),
            ),
        )
        .sort();
    }
    return out;
  } finally {
    session.close();
  }
}

const FIXTURE_TABLES = parseListing(
  readFileSync(
    new URL('../../../../fidelity/kube-proxy-v1.36/nft-ruleset.upstream.txt', import.meta.url),
    'utf8',
  ),
);

describe('nf_tables over netlink vs nft -f (real kernel)', () => {
  const scope = new NetnsScope('nft-nl');
  afterAll(() => scope.cleanup());

  it(
    'a kube-proxy-like table (base chains, verdict maps, concatenations, timeouts, comments) lists identically',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        expect(await pair.apply(kubeLikeSetup())).toEqual({ netlink: undefined, nft: undefined });
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain('table ip kube-proxy');
        expect(netlink).toBe(nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it.each(FIXTURE_TABLES)(
    "upstream v1.36 kube-proxy's $family $table table (fidelity fixture: $ruleCount rules, $elementCount elements) lists identically",
    async ({ family, table, transaction, ruleCount }) => {
      expect(ruleCount).toBeGreaterThanOrEqual(20);
      const pair = await oraclePair(scope, family, table);
      try {
        expect(await pair.apply(transaction)).toEqual({ netlink: undefined, nft: undefined });
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain(`table ${family} ${table}`);
        expect(netlink).toBe(nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it.each(FIXTURE_TABLES)(
    "the kernel holds the same bytes for the fixture's $family table: rules, anonymous sets and maps, userdata",
    async ({ family, table, transaction }) => {
      const pair = await oraclePair(scope, family, table);
      try {
        expect(await pair.apply(transaction)).toEqual({ netlink: undefined, nft: undefined });
        const [viaNetlink, viaNft] = await Promise.all([
          rawDump(pair.netlinkNs, family, table),
          rawDump(pair.nftNs, family, table),
        ]);
        expect(viaNetlink.rules?.length).toBeGreaterThanOrEqual(20);
        expect(viaNetlink).toEqual(viaNft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'the kernel holds the same bytes either way: tables, chains, sets (key types, lengths, nft userdata) and elements',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        expect(await pair.apply(kubeLikeSetup())).toEqual({ netlink: undefined, nft: undefined });
        const [viaNetlink, viaNft] = await Promise.all([
          rawDump(pair.netlinkNs, 'ip', 'kube-proxy'),
          rawDump(pair.nftNs, 'ip', 'kube-proxy'),
        ]);
        expect(viaNetlink.sets).toHaveLength(8);
        expect(viaNetlink['elements of service-ips']).toHaveLength(3);
        expect(viaNetlink).toEqual(viaNft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    "runTable (a table's elements encoded from their text) leaves the same table as nft -f of its full transaction",
    async () => {
      const objects = kubeLikeSetup().operations.map((op) => op.object);
      const table = new IncrementalNftTable({ kind: 'table', comment: 'rules for kube-proxy' });
      table.set('all', {
        chains: objects.flatMap((o) =>
          o.kind === 'chain'
            ? [
                {
                  chain: o,
                  rules:
                    o.name === 'services'
                      ? [
                          {
                            rule: 'ip daddr . meta l4proto . th dport vmap @service-ips',
                            comment: 'dispatch',
                          },
                        ]
                      : [],
                },
              ]
            : [],
        ),
        sets: objects.flatMap((o) => (o.kind === 'set' || o.kind === 'map' ? [o] : [])),
        elements: objects.flatMap((o) => (o.kind === 'element' ? [o] : [])),
      });
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        // Twice: the second replaces a table that exists (its delete must find it).
        for (let round = 0; round < 2; round++) {
          const [a, b] = await Promise.allSettled([
            pair.netlink.runTable(table),
            pair.nft.run(table.fullTransaction()),
          ]);
          expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
        }
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain('172.30.0.41 . tcp . 80 comment "ns1/svc1:p80" : goto');
        expect(netlink).toBe(nft);
        const [viaNetlink, viaNft] = await Promise.all([
          rawDump(pair.netlinkNs, 'ip', 'kube-proxy'),
          rawDump(pair.nftNs, 'ip', 'kube-proxy'),
        ]);
        expect(viaNetlink['elements of dnat-to']).toHaveLength(1);
        expect(viaNetlink).toEqual(viaNft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    "typeof endpoint maps (kube-proxy's numgen slots) and the rules DNATing through them, also in a later sync that reads the maps back",
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        const first = new NftTransaction()
          .add({ kind: 'table' })
          .add({
            kind: 'map',
            name: 'tcp-service-cluster-endpoints',
            typeof: true,
            type: 'ip daddr . meta l4proto . th dport . numgen random mod 1',
            valueType: 'ip daddr . tcp dport',
            comment: 'destination . protocol . port . slot to cluster endpoint',
          })
          .add({
            kind: 'map',
            name: 'udp-nodeport-local-endpoints',
            typeof: true,
            type: 'meta l4proto . th dport . numgen random mod 1',
            valueType: 'ip daddr . udp dport',
          })
          .add({ kind: 'set', name: 'sources', typeof: true, type: 'ip saddr' })
          .add({ kind: 'chain', name: 'select-2' })
          .add({
            kind: 'rule',
            chain: 'select-2',
            rule: 'dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @tcp-service-cluster-endpoints',
          })
          .add({
            kind: 'element',
            container: 'tcp-service-cluster-endpoints',
            key: ['172.30.0.41', 'tcp', '80', '0'],
            value: ['10.180.0.1', '8080'],
          })
          .add({
            kind: 'element',
            container: 'tcp-service-cluster-endpoints',
            key: ['172.30.0.41', 'tcp', '80', '1'],
            value: ['10.180.0.2', '8080'],
          })
          .add({
            kind: 'element',
            container: 'udp-nodeport-local-endpoints',
            key: ['udp', '30053', '0'],
            value: ['10.180.0.3', '53'],
          })
          .add({ kind: 'element', container: 'sources', key: ['10.1.2.3'] });
        expect(await pair.apply(first)).toEqual({ netlink: undefined, nft: undefined });
        let listings = await pair.listings();
        expect(listings.netlink).toContain(
          'typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . tcp dport',
        );
        expect(listings.netlink).toBe(listings.nft);
        // A later sync: both clients know the maps only from the kernel now.
        const second = new NftTransaction()
          .add({ kind: 'chain', name: 'select-3' })
          .add({
            kind: 'rule',
            chain: 'select-3',
            rule: 'dnat ip to meta l4proto . th dport . numgen random mod 3 map @udp-nodeport-local-endpoints',
          })
          .add({
            kind: 'element',
            container: 'udp-nodeport-local-endpoints',
            key: ['udp', '30053', '1'],
            value: ['10.180.0.4', '53'],
          });
        const fresh = new (await import('../../src/nftables/netlink/client')).NetlinkNftablesClient({
          family: 'ip',
          table: 'kube-proxy',
          netns: { path: pair.netlinkNs.path },
        });
        try {
          const [a, b] = await Promise.allSettled([fresh.run(second), pair.nft.run(second)]);
          expect([a.status, b.status]).toEqual(['fulfilled', 'fulfilled']);
          listings = await pair.listings();
          expect(listings.netlink).toBe(listings.nft);
          const listed = await fresh.list();
          expect(listed.maps.find((m) => m.name === 'udp-nodeport-local-endpoints')).toMatchObject({
            typeof: true,
            type: 'meta l4proto . th dport . numgen random mod 1',
            valueType: 'ip daddr . udp dport',
          });
          expect(listed.elements['udp-nodeport-local-endpoints']).toHaveLength(2);
        } finally {
          await fresh.close();
        }
        const [viaNetlink, viaNft] = await Promise.all([
          rawDump(pair.netlinkNs, 'ip', 'kube-proxy'),
          rawDump(pair.nftNs, 'ip', 'kube-proxy'),
        ]);
        expect(viaNetlink).toEqual(viaNft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'changes after the first sync (element deletes, set flushes, chain flushes and deletes, destroy) keep the listings identical',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        expect(await pair.apply(kubeLikeSetup())).toEqual({ netlink: undefined, nft: undefined });
        const steps = [
          new NftTransaction()
            .delete({ kind: 'element', container: 'service-ips', key: ['172.30.0.42', 'udp', '53'] })
            .delete({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.41'] })
            .add({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.44'] }),
          new NftTransaction()
            .flush({
              kind: 'map',
              name: 'service-nodeports',
              type: 'inet_proto . inet_service',
              valueType: 'verdict',
            })
            .flush({ kind: 'chain', name: 'services' })
            .delete({ kind: 'chain', name: 'endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80' }),
          new NftTransaction()
            .destroy({ kind: 'chain', name: 'never-existed' })
            .destroy({ kind: 'set', name: 'nodeport-ips', type: 'ipv4_addr', size: 65535 })
            .destroy({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.44'] })
            .destroy({ kind: 'element', container: 'cluster-ips', key: ['172.30.0.99'] }),
          new NftTransaction().flush({ kind: 'table' }),
          new NftTransaction()
            .delete({
              kind: 'map',
              name: 'dnat-to',
              type: 'ipv4_addr . inet_service',
              valueType: 'ipv4_addr . inet_service',
            })
            .add({
              kind: 'set',
              name: 'dnat-to',
              type: 'ipv4_addr . inet_service',
              comment: 'same name, now a set',
            })
            .add({ kind: 'element', container: 'dnat-to', key: ['10.9.9.9', '443'] }),
        ];
        for (const step of steps) {
          expect(await pair.apply(step)).toEqual({ netlink: undefined, nft: undefined });
          const { netlink, nft } = await pair.listings();
          expect(netlink).toBe(nft);
        }
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it.each<[NftFamily, string]>([
    ['ip6', 'ipv6_addr . inet_proto . inet_service'],
    ['inet', 'ipv4_addr . inet_service'],
    ['bridge', 'ether_addr'],
  ])(
    'the %s family: base chains and a %s set list identically',
    async (family, type) => {
      const pair = await oraclePair(scope, family, 'fam');
      try {
        const key =
          type === 'ether_addr'
            ? ['02:42:ac:11:00:02']
            : type.startsWith('ipv6')
              ? ['fd00::1', 'tcp', '443']
              : ['10.0.0.1', '8080'];
        const tx = new NftTransaction()
          .add({ kind: 'table' })
          .add({
            kind: 'chain',
            name: 'pre',
            type: 'filter',
            hook: 'prerouting',
            priority: 'filter',
            policy: 'accept',
          })
          .add({ kind: 'chain', name: 'forwarding', type: 'filter', hook: 'forward', priority: 5 })
          .add({ kind: 'set', name: 'keys', type, comment: family })
          .add({ kind: 'element', container: 'keys', key });
        expect(await pair.apply(tx)).toEqual({ netlink: undefined, nft: undefined });
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain(`table ${family} fam`);
        expect(netlink).toBe(nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'a netdev ingress chain on lo lists identically',
    async () => {
      const pair = await oraclePair(scope, 'netdev', 'ingress');
      try {
        const tx = new NftTransaction().add({ kind: 'table' }).add({
          kind: 'chain',
          name: 'in',
          type: 'filter',
          hook: 'ingress',
          device: 'lo',
          priority: -500,
          policy: 'accept',
        });
        expect(await pair.apply(tx)).toEqual({ netlink: undefined, nft: undefined });
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain('device "lo"');
        expect(netlink).toBe(nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'a failing batch leaves the kernel unchanged and names the operation and errno (as nft -f also fails)',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        expect(await pair.apply(kubeLikeSetup())).toEqual({ netlink: undefined, nft: undefined });
        const before = await pair.listings();
        const failing = new NftTransaction()
          .add({ kind: 'chain', name: 'added-then-rolled-back' })
          .add({ kind: 'element', container: 'cluster-ips', key: ['10.99.0.1'] })
          .flush({ kind: 'chain', name: 'services' })
          .delete({ kind: 'chain', name: 'no-such-chain' })
          .add({ kind: 'element', container: 'cluster-ips', key: ['10.99.0.2'] });
        const errors = await pair.apply(failing);
        expect(errors.nft).toBeDefined();
        expect(errors.netlink).toBeInstanceOf(NftKernelError);
        const error = errors.netlink as NftKernelError;
        expect(error.errnoName).toBe('ENOENT');
        expect(error.index).toBe(3);
        expect(error.operation).toBe('delete chain ip kube-proxy no-such-chain');
        expect(error.message).toContain('delete chain ip kube-proxy no-such-chain: ENOENT');
        const after = await pair.listings();
        expect(after.netlink).toBe(before.netlink);
        expect(after.nft).toBe(before.nft);
        expect(after.netlink).not.toContain('added-then-rolled-back');
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'a batch over the size limit is refused whole (kernel unchanged); split, it applies as consecutive batches and lists as nft -f does',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy', { maxBatchBytes: 16_384 });
      try {
        const big = kubeLikeSetup();
        for (let i = 0; i < 400; i++)
          big.add({ kind: 'element', container: 'cluster-ips', key: [`10.50.${i >> 8}.${i & 255}`] });
        for (let i = 0; i < 40; i++) {
          big.add({ kind: 'chain', name: `svc-${i}` });
          big.add({
            kind: 'rule',
            chain: `svc-${i}`,
            rule: `ip daddr 10.60.0.${i} tcp dport { 80, 443 } accept`,
            comment: `svc ${i}`,
          });
        }
        const refused = await pair.apply(big);
        expect(refused.nft).toBeUndefined();
        expect(refused.netlink).toBeInstanceOf(NftBatchTooLargeError);
        expect((refused.netlink as NftBatchTooLargeError).limit).toBe(16_384);
        expect(await listRuleset(pair.netlinkNs)).not.toContain('kube-proxy');

        const { NetlinkNftablesClient } = await import('../../src/nftables/netlink/client');
        const splitting = new NetlinkNftablesClient({
          family: 'ip',
          table: 'kube-proxy',
          netns: { path: pair.netlinkNs.path },
          maxBatchBytes: 16_384,
          splitOversizedBatches: true,
        });
        try {
          await splitting.run(big);
        } finally {
          await splitting.close();
        }
        const { netlink, nft } = await pair.listings();
        expect(netlink).toContain('10.50.1.143');
        expect(netlink).toBe(nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'create of an existing object fails with EEXIST naming it; check() validates and changes nothing',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        expect(await pair.apply(kubeLikeSetup())).toEqual({ netlink: undefined, nft: undefined });
        const before = await pair.listings();
        const clash = new NftTransaction().create({ kind: 'chain', name: 'services' });
        const errors = await pair.apply(clash);
        expect(errors.nft).toBeDefined();
        expect(errors.netlink).toBeInstanceOf(NftKernelError);
        expect((errors.netlink as NftKernelError).errnoName).toBe('EEXIST');
        expect((errors.netlink as NftKernelError).operation).toBe('create chain ip kube-proxy services');
        const elementClash = new NftTransaction().create({
          kind: 'element',
          container: 'cluster-ips',
          key: ['172.30.0.41'],
        });
        const elementErrors = await pair.apply(elementClash);
        expect(elementErrors.nft).toBeDefined();
        expect((elementErrors.netlink as NftKernelError).errnoName).toBe('EEXIST');
        expect((elementErrors.netlink as NftKernelError).operation).toContain('cluster-ips { 172.30.0.41 }');

        const valid = new NftTransaction().add({ kind: 'chain', name: 'only-checked' });
        await pair.netlink.check(valid);
        await expect(pair.netlink.check(clash)).rejects.toMatchObject({ errnoName: 'EEXIST' });
        const after = await pair.listings();
        expect(after.netlink).toBe(before.netlink);
        expect(after.nft).toBe(before.nft);
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it.each(FIXTURE_TABLES)(
    "the fixture's $family table written by nft -f lists over netlink with the same rule texts, comments and handles as the nft client reads",
    async ({ family, table, transaction }) => {
      const pair = await oraclePair(scope, family, table);
      try {
        await pair.nft.run(transaction);
        const { NetlinkNftablesClient } = await import('../../src/nftables/netlink/client');
        const reader = new NetlinkNftablesClient({ family, table, netns: { path: pair.nftNs.path } });
        try {
          const viaNetlink = await reader.list();
          const viaNft = await pair.nft.list();
          const rules = (ruleset: typeof viaNft) =>
            Object.fromEntries(
              Object.entries(ruleset.rules).map(([chain, list]) => [
                chain,
                list.map((r) => ({ rule: r.rule, comment: r.comment, handle: r.handle })),
              ]),
            );
          expect(Object.values(viaNft.rules).flat().length).toBeGreaterThanOrEqual(20);
          expect(rules(viaNetlink)).toEqual(rules(viaNft));
        } finally {
          await reader.close();
        }
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );

  it(
    'a table written by nft -f reads back over netlink into the model the nft client reads',
    async () => {
      const pair = await oraclePair(scope, 'ip', 'kube-proxy');
      try {
        // Written with nft only, then read with both clients from the same namespace.
        await pair.nft.run(kubeLikeSetup());
        const { NetlinkNftablesClient } = await import('../../src/nftables/netlink/client');
        const reader = new NetlinkNftablesClient({
          family: 'ip',
          table: 'kube-proxy',
          netns: { path: pair.nftNs.path },
        });
        try {
          const viaNetlink = await reader.list();
          const viaNft = await pair.nft.list();
          const byName = <T extends { name: string }>(xs: T[]) =>
            [...xs].sort((a, b) => a.name.localeCompare(b.name));
          // parse-json (the nft client's reader) leaves the table comment out; nft's text shows it.
          expect(viaNetlink.comment).toBe('rules for kube-proxy');
          // …and chain comments, which netlink returns.
          expect(viaNetlink.chains.find((c) => c.name === 'services')?.comment).toBe('dispatch to services');
          const withoutComment = viaNetlink.chains.map(({ comment: _comment, ...chain }) => chain);
          expect(byName(withoutComment)).toEqual(byName(viaNft.chains));
          // nft 1.0.6's JSON drops the `dynamic` flag, which netlink reports.
          expect(viaNetlink.sets.find((x) => x.name === 'affinity-x')?.flags).toEqual(['dynamic', 'timeout']);
          const withoutDynamic = viaNetlink.sets.map((x) =>
            x.flags ? { ...x, flags: x.flags.filter((f) => f !== 'dynamic') } : x,
          );
          expect(byName(withoutDynamic)).toEqual(byName(viaNft.sets));
          expect(byName(viaNetlink.maps)).toEqual(byName(viaNft.maps));
          // Hash sets have no element order: compare each set's elements sorted.
          const sorted = (elements: Record<string, unknown[]>) =>
            Object.fromEntries(
              Object.entries(elements).map(([name, list]) => [
                name,
                list.map((e) => JSON.stringify(e)).sort(),
              ]),
            );
          expect(sorted(viaNetlink.elements)).toEqual(sorted(viaNft.elements));
          expect(await reader.exists()).toBe(true);
        } finally {
          await reader.close();
        }
      } finally {
        await pair.close();
      }
    },
    HANG_GUARD,
  );
});
