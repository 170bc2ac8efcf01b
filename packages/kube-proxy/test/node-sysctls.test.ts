import { describe, expect, it } from 'vitest';
import { loadKubeProxyConfiguration } from '../src/index';
import {
  applyNodeSysctls,
  conntrackMax,
  type HashsizeFile,
  NodeSysctlError,
  needsRouteLocalnet,
  planNodeSysctls,
} from '../src/runtime/index';
import type { SysctlLayer } from '../src/runtime/sysctl-layer';

const config = (yaml = '') =>
  loadKubeProxyConfiguration(
    `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n${yaml}`,
  );

/** A sysctl table in memory; keys listed in readOnly refuse writes as the kernel would. */
function fakeSysctl(values: Record<string, string>, readOnly: string[] = []) {
  const table = new Map(Object.entries(values));
  const writes: string[] = [];
  const layer: SysctlLayer = {
    async get(keys) {
      return new Map(keys.filter((k) => table.has(k)).map((k) => [k, table.get(k)!]));
    },
    async set(pairs) {
      for (const [k, v] of pairs) {
        if (readOnly.includes(k)) throw new Error(`sysctl: permission denied on key "${k}"`);
        table.set(k, v);
        writes.push(`${k}=${v}`);
      }
    },
  };
  return { layer, table, writes };
}

function fakeHashsize(initial: number): HashsizeFile & { value: number } {
  const f = {
    value: initial,
    read: async () => f.value,
    write: async (v: number) => {
      f.value = v;
    },
  };
  return f;
}

describe('conntrackMax', () => {
  it('scales maxPerCore by CPUs with conntrack.min as the floor, 0 when maxPerCore is 0', () => {
    const ct = config().conntrack;
    expect(conntrackMax(ct, 2)).toBe(131072); // 2 × 32768 is under the 128Ki floor
    expect(conntrackMax(ct, 8)).toBe(262144);
    expect(conntrackMax({ ...ct, maxPerCore: 0 }, 8)).toBe(0);
    expect(conntrackMax({ ...ct, min: null }, 1)).toBe(32768);
  });
});

describe('planNodeSysctls', () => {
  it('defaults: conntrack limit, upstream TCP timeouts and route_localnet in iptables mode', () => {
    expect(planNodeSysctls(config(), 4)).toEqual([
      ['net.netfilter.nf_conntrack_max', '131072'],
      ['net.netfilter.nf_conntrack_tcp_timeout_established', '86400'],
      ['net.netfilter.nf_conntrack_tcp_timeout_close_wait', '3600'],
      ['net.ipv4.conf.all.route_localnet', '1'],
    ]);
  });

  it('takes every conntrack field, and leaves unset or zero values alone', () => {
    const plan = planNodeSysctls(
      config(
        'mode: nftables\nconntrack:\n  maxPerCore: 0\n  tcpEstablishedTimeout: 2h\n  tcpCloseWaitTimeout: 0s\n  tcpBeLiberal: true\n  udpTimeout: 30s\n  udpStreamTimeout: 2m\n',
      ),
      4,
    );
    expect(plan).toEqual([
      ['net.netfilter.nf_conntrack_tcp_timeout_established', '7200'],
      ['net.netfilter.nf_conntrack_tcp_be_liberal', '1'],
      ['net.netfilter.nf_conntrack_udp_timeout', '30'],
      ['net.netfilter.nf_conntrack_udp_timeout_stream', '120'],
    ]);
  });

  it('route_localnet only when iptables-mode NodePorts answer on 127.0.0.1', () => {
    expect(needsRouteLocalnet(config())).toBe(true);
    expect(needsRouteLocalnet(config('mode: nftables'))).toBe(false);
    expect(needsRouteLocalnet(config('iptables:\n  localhostNodePorts: false'))).toBe(false);
    expect(needsRouteLocalnet(config('nodePortAddresses: ["10.0.0.0/8"]'))).toBe(false);
    expect(needsRouteLocalnet(config('nodePortAddresses: ["10.0.0.0/8", "127.0.0.0/8"]'))).toBe(true);
    expect(needsRouteLocalnet(config('nodePortAddresses: ["primary"]'))).toBe(false);
  });
});

describe('applyNodeSysctls', () => {
  const plan = planNodeSysctls(config(), 8); // max 262144

  it('writes only the values that differ and raises the hash table to a quarter of the limit', async () => {
    const s = fakeSysctl({
      'net.netfilter.nf_conntrack_max': '65536',
      'net.netfilter.nf_conntrack_tcp_timeout_established': '86400',
      'net.netfilter.nf_conntrack_tcp_timeout_close_wait': '60',
      'net.ipv4.conf.all.route_localnet': '0',
    });
    const hash = fakeHashsize(16384);
    const r = await applyNodeSysctls(plan, s.layer, hash);
    expect(s.writes).toEqual([
      'net.netfilter.nf_conntrack_max=262144',
      'net.netfilter.nf_conntrack_tcp_timeout_close_wait=3600',
      'net.ipv4.conf.all.route_localnet=1',
    ]);
    expect(r).toEqual({
      changed: [
        'net.netfilter.nf_conntrack_max',
        'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
        'net.ipv4.conf.all.route_localnet',
      ],
      warnings: [],
    });
    expect(hash.value).toBe(65536);
  });

  it('never shrinks the hash table', async () => {
    const s = fakeSysctl({ 'net.netfilter.nf_conntrack_max': '1' });
    const hash = fakeHashsize(1_000_000);
    await applyNodeSysctls(plan, s.layer, hash);
    expect(hash.value).toBe(1_000_000);
  });

  it('a read-only nf_conntrack_max (not the initial netns) is a warning and leaves the hash table alone', async () => {
    const s = fakeSysctl({ 'net.netfilter.nf_conntrack_max': '65536' }, ['net.netfilter.nf_conntrack_max']);
    const hash = fakeHashsize(16);
    const r = await applyNodeSysctls(plan, s.layer, hash);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain('net.netfilter.nf_conntrack_max=262144');
    expect(hash.value).toBe(16);
    expect(s.table.get('net.netfilter.nf_conntrack_tcp_timeout_established')).toBe('86400');
  });

  it('any other refused key fails with a NodeSysctlError naming key and value', async () => {
    const s = fakeSysctl({}, ['net.ipv4.conf.all.route_localnet']);
    const err = await applyNodeSysctls(plan, s.layer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeSysctlError);
    expect(err).toMatchObject({ code: 'NODE_SYSCTL', key: 'net.ipv4.conf.all.route_localnet', value: '1' });
  });
});
