import type { ConntrackFlow } from '@nodeagent/netfilter';
import { type ConntrackNetlink, ConntrackNetlinkError } from '@nodeagent/netfilter';
import { describe, expect, it } from 'vitest';
import {
  type ConntrackCleaner,
  KubeProxyMetrics,
  netlinkConntrack,
  reconcileConntrack,
  snapshotFromObjects,
} from '../src/index';
import { NftablesProxier } from '../src/nftables/index';
import { service, slice } from './fixtures';
import { fakeNftables } from './proxier-modes';

// Upstream's pkg/proxy/conntrack CleanStaleEntries (v1.33+): a UDP entry whose original
// destination is a Service's IP:port (cluster IP, LB VIP, external IP) or NodePort and whose
// reply source IP:port is not one of that Service's serving endpoints is deleted.

/** A UDP (or TCP) entry client:port → dst:dport, NATed to backend:bport. */
function flow(
  dst: string,
  dport: number,
  backend: string,
  bport: number,
  protocol = 17,
  client = '10.0.0.2',
): ConntrackFlow {
  return {
    family: 'ipv4',
    original: { src: client, dst, protocol, srcPort: 40053, dstPort: dport },
    reply: { src: backend, dst: client, protocol, srcPort: bport, dstPort: 40053 },
    zone: 0,
  };
}

/** A conntrack table in memory: deletes remove entries (a missing one is not counted). */
function fakeTable(
  entries: ConntrackFlow[],
): ConntrackCleaner & { entries: ConntrackFlow[]; deleted: ConntrackFlow[][] } {
  const table = {
    entries,
    deleted: [] as ConntrackFlow[][],
    listEntries: async () => [...table.entries],
    async deleteEntries(flows: readonly ConntrackFlow[]) {
      table.deleted.push([...flows]);
      const before = table.entries.length;
      table.entries = table.entries.filter((e) => !flows.includes(e));
      return before - table.entries.length;
    },
  };
  return table;
}

const dns = service('dns', {
  type: 'LoadBalancer',
  clusterIP: '10.96.0.53',
  externalIPs: ['192.0.2.53'],
  ports: [
    { name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 },
    { name: 'dns-tcp', port: 53, protocol: 'TCP', nodePort: 30054 },
  ],
});
const dnsLB = { ...dns, status: { loadBalancer: { ingress: [{ ip: '203.0.113.53' }] } } };
const ports = [
  { name: 'dns', port: 5353, protocol: 'UDP' },
  { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
];

function snapshot(endpoints: { ip: string; serving?: boolean; ready?: boolean; terminating?: boolean }[]) {
  return snapshotFromObjects({
    family: 'IPv4',
    nodeName: 'node-a',
    services: [dnsLB],
    endpointSlices: [slice('dns', endpoints, { ports })],
  });
}

describe('reconcileConntrack', () => {
  it('deletes UDP flows to every Service address and the NodePort not NATed to a serving endpoint', async () => {
    const current = flow('10.96.0.53', 53, '10.244.1.5', 5353);
    const table = fakeTable([
      current,
      flow('10.96.0.53', 53, '10.244.9.9', 5353), // cluster IP → a gone endpoint
      flow('192.0.2.53', 53, '10.244.9.9', 5353), // external IP
      flow('203.0.113.53', 53, '10.244.9.9', 5353), // LoadBalancer VIP
      flow('10.96.0.53', 53, '10.244.1.5', 9999), // the right IP, the wrong port
      flow('172.18.0.2', 30053, '10.244.9.9', 5353), // NodePort on a node address
      flow('172.18.0.2', 30053, '10.244.1.5', 5353, 17, '10.0.0.3'), // NodePort, current endpoint
      flow('10.96.0.53', 53, '10.244.9.9', 5353, 6), // TCP: never touched
      flow('10.96.0.99', 53, '10.244.9.9', 5353), // not a Service
    ]);
    const result = await reconcileConntrack(
      table,
      snapshot([{ ip: '10.244.1.5' }]).services,
      snapshot([{ ip: '10.244.1.5' }]).endpoints,
    );
    expect(result).toEqual({ listed: true, deleted: 5 });
    expect(
      table.entries.map(
        (e) =>
          `${e.original.dst}:${e.original.dstPort}>${e.reply.src}:${e.reply.srcPort}/${e.original.protocol}`,
      ),
    ).toEqual([
      '10.96.0.53:53>10.244.1.5:5353/17',
      '172.18.0.2:30053>10.244.1.5:5353/17',
      '10.96.0.53:53>10.244.9.9:5353/6',
      '10.96.0.99:53>10.244.9.9:5353/17',
    ]);
    expect(table.entries[0]).toBe(current);
  });

  it('keeps flows of a Service without serving endpoints, and to a terminating but serving one', async () => {
    const stale = flow('10.96.0.53', 53, '10.244.9.9', 5353);
    const none = snapshot([{ ip: '10.244.1.5', ready: false, serving: false }]);
    const table = fakeTable([stale]);
    expect(await reconcileConntrack(table, none.services, none.endpoints)).toEqual({
      listed: true,
      deleted: 0,
    });
    expect(table.entries).toEqual([stale]);
    const terminating = snapshot([{ ip: '10.244.9.9', ready: false, serving: true, terminating: true }]);
    expect(await reconcileConntrack(table, terminating.services, terminating.endpoints)).toEqual({
      listed: true,
      deleted: 0,
    });
  });

  it('reports a failed list (nothing deleted) and a partly failed delete with its count', async () => {
    const s = snapshot([{ ip: '10.244.1.5' }]);
    const broken: ConntrackCleaner = {
      listEntries: async () => {
        throw new Error('EPERM');
      },
      deleteEntries: async () => 0,
    };
    expect(await reconcileConntrack(broken, s.services, s.endpoints)).toMatchObject({
      listed: false,
      deleted: 0,
    });
    const partly: ConntrackCleaner = {
      listEntries: async () => [flow('10.96.0.53', 53, '10.244.9.9', 5353)],
      deleteEntries: async () => {
        throw new ConntrackNetlinkError('delete', 1, 'refused', 3);
      },
    };
    const r = await reconcileConntrack(partly, s.services, s.endpoints);
    expect(r).toMatchObject({ listed: true, deleted: 3 });
    expect(r.error).toBeInstanceOf(ConntrackNetlinkError);
  });
});

describe('netlinkConntrack', () => {
  it("asks the kernel for the family's UDP entries only (what the reconciler judges)", async () => {
    const asked: unknown[][] = [];
    const socket = {
      listEntries: async (...args: unknown[]) => {
        asked.push(args);
        return [];
      },
    } as unknown as ConntrackNetlink;
    const v6 = netlinkConntrack('IPv6', async () => socket);
    await v6.listEntries();
    await netlinkConntrack('IPv4', async () => socket).listEntries();
    expect(asked).toEqual([
      ['ipv6', 17],
      ['ipv4', 17],
    ]);
  });
});

describe('a proxier reconciles conntrack after each sync', () => {
  it('deletes the flow of a removed endpoint and moves the reconciler metrics', async () => {
    const metrics = new KubeProxyMetrics();
    const table = fakeTable([
      flow('10.96.0.53', 53, '10.244.1.5', 5353),
      flow('10.96.0.53', 53, '10.244.1.6', 5353),
    ]);
    const p = new NftablesProxier({
      family: 'IPv4',
      nodeName: 'node-a',
      nftables: fakeNftables().nftables,
      conntrack: table,
      metrics,
    });
    p.onServiceAdd(dns);
    p.onEndpointSliceAdd(slice('dns', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }], { ports }));
    p.onServicesSynced();
    p.onEndpointSlicesSynced();
    expect(await p.syncProxyRules()).toMatchObject({ ok: true });
    expect(table.entries).toHaveLength(2);
    p.onEndpointSliceUpdate(
      slice('dns', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }], { ports }),
      slice('dns', [{ ip: '10.244.1.5' }], { ports }),
    );
    expect(await p.syncProxyRules()).toMatchObject({ ok: true });
    expect(table.entries.map((e) => e.reply.src)).toEqual(['10.244.1.5']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^kubeproxy_conntrack_reconciler_deleted_entries_total\{ip_family="IPv4"\} 1$/m);
    expect(text).toMatch(
      /^kubeproxy_conntrack_reconciler_sync_duration_seconds_count\{ip_family="IPv4"\} 2$/m,
    );
    expect(text).toContain(
      '# HELP kubeproxy_conntrack_reconciler_sync_duration_seconds [ALPHA] ReconcileConntrackFlowsLatency latency in seconds',
    );
    expect(text).toContain(
      '# HELP kubeproxy_conntrack_reconciler_deleted_entries_total [ALPHA] Cumulative conntrack flows deleted by conntrack reconciler',
    );
  });
});
