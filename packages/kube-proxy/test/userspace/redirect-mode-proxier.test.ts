import net from 'node:net';
import type { Ruleset, TableName } from '@nodeagent/netfilter';
import type { Rule } from '@nodeagent/netfilter/iptables';
import { renderRestore } from '@nodeagent/netfilter/iptables';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultKubeProxyConfiguration } from '../../src/config/kube-proxy-configuration';
import { KubeProxyMetrics } from '../../src/runtime/metrics';
import { ProxierHealth } from '../../src/runtime/proxier-health';
import { ServiceHealthServer } from '../../src/runtime/service-health-server';
import { ProxyPortAllocator, parseProxyPortRange } from '../../src/userspace/proxy-port-range';
import { userspaceOptionsFromConfig } from '../../src/userspace/userspace-options-from-config';
import { type PortalIptables, UserspaceProxier } from '../../src/userspace/userspace-proxier';
import { endpointSlice, freePort, loopbackPrefix, service, tcpBackend, whoAnswers } from './loopback-helpers';

/** Records what the proxier asks of iptables instead of touching the kernel. */
class RecordingIptables implements PortalIptables {
  restored: string[] = [];
  jumps: { table: TableName; chain: string; rule: Rule }[] = [];
  failNext = false;
  async restore(input: Parameters<PortalIptables['restore']>[0]) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('iptables-restore failed');
    }
    this.restored.push(renderRestore(input as Ruleset));
    return { strategy: 'noflush' as const, chains: 4, rules: 0 };
  }
  async ensureChain() {}
  async ensureRule(_position: 'prepend' | 'append', table: TableName, chain: string, rule: Rule) {
    if (!this.jumps.some((j) => j.chain === chain && JSON.stringify(j.rule) === JSON.stringify(rule))) {
      this.jumps.unshift({ table, chain, rule });
    }
    return true;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('UserspaceProxier in REDIRECT mode (recorded iptables)', () => {
  it('listens on bindAddress and redirects the service to the port it got', async () => {
    const prefix = loopbackPrefix();
    const b = await tcpBackend('b0', `${prefix}.11`, 0);
    cleanups.push(() => b.close());
    const iptables = new RecordingIptables();
    const proxier = new UserspaceProxier({
      family: 'IPv4',
      nodeName: 'n',
      iptables,
      bindAddress: `${prefix}.1`,
    });
    cleanups.push(() => proxier.stop());
    proxier.onServiceAdd(service('web', '10.96.0.10', [{ name: 'http', port: 80 }]));
    proxier.onEndpointSliceAdd(endpointSlice('web', [b.ip], [{ name: 'http', port: b.port }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect((await proxier.syncProxyRules())?.ok).toBe(true);

    const [port] = proxier.proxyPorts().get('default/web:http')!;
    expect(port).toBeGreaterThan(0);
    expect(iptables.restored.at(-1)).toContain(
      `-d 10.96.0.10/32 -m tcp --dport 80 -j REDIRECT --to-ports ${port}`,
    );
    // PORTALS before NODEPORT in each built-in chain, as upstream required.
    const order = iptables.jumps.map(
      (j) => `${j.chain}->${j.rule.target?.kind === 'jump' ? j.rule.target.chain : ''}`,
    );
    expect(order.filter((o) => o.startsWith('PREROUTING'))).toEqual([
      'PREROUTING->KUBE-PORTALS-CONTAINER',
      'PREROUTING->KUBE-NODEPORT-CONTAINER',
    ]);
    expect(order.filter((o) => o.startsWith('OUTPUT'))).toEqual([
      'OUTPUT->KUBE-PORTALS-HOST',
      'OUTPUT->KUBE-NODEPORT-HOST',
    ]);
    // What the REDIRECT would deliver to: the proxy itself.
    expect(await whoAnswers(`${prefix}.1`, port!)).toBe('b0');

    // A deleted service's rules go with the next sync.
    proxier.onServiceDelete(service('web', '10.96.0.10', [{ name: 'http', port: 80 }]));
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
    expect(iptables.restored.at(-1)).not.toContain('REDIRECT');
  });

  it('takes proxy ports from portRange, skipping ports in use', async () => {
    const prefix = loopbackPrefix();
    const base = await freePort(`${prefix}.1`);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: `${prefix}.1`, port: base }, resolve));
    cleanups.push(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
    const iptables = new RecordingIptables();
    const proxier = new UserspaceProxier({
      family: 'IPv4',
      nodeName: 'n',
      iptables,
      bindAddress: `${prefix}.1`,
      proxyPortRange: { base, size: 3 },
    });
    cleanups.push(() => proxier.stop());
    proxier.onServiceAdd(service('a', '10.96.0.10', [{ name: 'p', port: 80 }]));
    proxier.onServiceAdd(service('b', '10.96.0.11', [{ name: 'p', port: 80 }]));
    proxier.onServiceAdd(service('c', '10.96.0.12', [{ name: 'p', port: 80 }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
    const ports = [...proxier.proxyPorts().values()].flat().sort((x, y) => x - y);
    // Three service ports, a range of three with one taken by someone else: two fit.
    expect(ports).toEqual([base + 1, base + 2]);
    const failed = [...proxier.serviceErrors().values()];
    expect(failed).toHaveLength(1);
    expect(failed[0]?.code).toBe('PORT_IN_USE');
  });

  it('retries a failed iptables restore and reports it', async () => {
    const iptables = new RecordingIptables();
    iptables.failNext = true;
    const proxier = new UserspaceProxier({
      family: 'IPv4',
      nodeName: 'n',
      iptables,
      bindAddress: '127.0.0.1',
    });
    cleanups.push(() => proxier.stop());
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    const first = await proxier.syncProxyRules();
    expect(first?.ok).toBe(false);
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
  });

  it('reports syncs to health and metrics, and counts connections per service', async () => {
    const prefix = loopbackPrefix();
    const b = await tcpBackend('b0', `${prefix}.11`, 0);
    cleanups.push(() => b.close());
    const metrics = new KubeProxyMetrics();
    const health = new ProxierHealth(60_000);
    const proxier = new UserspaceProxier({
      family: 'IPv4',
      nodeName: 'n',
      iptables: new RecordingIptables(),
      bindAddress: `${prefix}.1`,
      metrics,
      health,
    });
    cleanups.push(() => proxier.stop());
    proxier.onServiceAdd(service('web', '10.96.0.10', [{ name: 'http', port: 80 }]));
    proxier.onEndpointSliceAdd(endpointSlice('web', [b.ip], [{ name: 'http', port: b.port }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect(health.status().lastUpdated).toBe(0);
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
    expect(health.status().lastUpdated).toBeGreaterThan(0);
    const [port] = proxier.proxyPorts().get('default/web:http')!;
    expect(await whoAnswers(`${prefix}.1`, port!)).toBe('b0');
    const text = await metrics.registry.metrics();
    expect(text).toContain('kubeproxy_sync_proxy_rules_duration_seconds_count{ip_family="IPv4"} 1');
    expect(text).toContain(
      'kubeproxy_userspace_connections_total{service_port="default/web:http",protocol="TCP"} 1',
    );
  });

  it('serves health check node ports with the count of ready local endpoints', async () => {
    const prefix = loopbackPrefix();
    const hcPort = await freePort(`${prefix}.1`);
    const svcPort = await freePort(`${prefix}.2`);
    const serviceHealth = new ServiceHealthServer({
      bindAddresses: [`${prefix}.1`],
      proxierHealthy: () => true,
    });
    cleanups.push(() => serviceHealth.close());
    const proxier = new UserspaceProxier({
      family: 'IPv4',
      nodeName: 'node-a',
      bindOnly: true,
      serviceHealth,
    });
    cleanups.push(() => proxier.stop());
    proxier.onServiceAdd(
      service('lb', `${prefix}.2`, [{ name: 'p', port: svcPort }], {
        type: 'LoadBalancer',
        // A node port makes the Service externally reachable, so local endpoints are tracked.
        ports: [{ name: 'p', port: svcPort, protocol: 'TCP', nodePort: 31234 }],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: hcPort,
      }),
    );
    const slice = endpointSlice('lb', [`${prefix}.11`, `${prefix}.12`], [{ name: 'p', port: 8080 }]);
    slice.endpoints[0]!.nodeName = 'node-a';
    slice.endpoints[1]!.nodeName = 'node-b';
    proxier.onEndpointSliceAdd(slice);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect((await proxier.syncProxyRules())?.ok).toBe(true);
    const res = await fetch(`http://${prefix}.1:${hcPort}/`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { localEndpoints: number }).localEndpoints).toBe(1);
  });

  it('refuses to start without iptables unless bind-only', () => {
    expect(() => new UserspaceProxier({ family: 'IPv4', nodeName: 'n' })).toThrow(/bindOnly/);
  });
});

describe('proxy port range', () => {
  it('parses upstream forms and rejects bad ones with the field name', () => {
    expect(parseProxyPortRange('portRange', '')).toBeUndefined();
    expect(parseProxyPortRange('portRange', '30000-30009')).toEqual({ base: 30000, size: 10 });
    expect(parseProxyPortRange('portRange', '40000+5')).toEqual({ base: 40000, size: 5 });
    expect(() => parseProxyPortRange('portRange', '9-3')).toThrow(/portRange/);
    expect(() => parseProxyPortRange('portRange', '65535+2')).toThrow(/1-65535/);
    expect(() => parseProxyPortRange('portRange', 'abc')).toThrow(/low-high/);
  });

  it('hands out ports round-robin and skips held ones', () => {
    const a = new ProxyPortAllocator({ base: 100, size: 3 });
    expect(a.candidates()).toEqual([100, 101, 102]);
    a.hold(100);
    expect(a.candidates()).toEqual([101, 102]);
    a.hold(101);
    a.release(100);
    expect(a.candidates()).toEqual([102, 100]);
  });
});

describe('userspaceOptionsFromConfig', () => {
  it('uses the iptables periods, portRange and bindAddress per family', () => {
    const c = { ...defaultKubeProxyConfiguration(), portRange: '40000-40099', bindAddress: '0.0.0.0' };
    const v4 = userspaceOptionsFromConfig(c, 'IPv4', false);
    expect(v4).toMatchObject({
      bindOnly: false,
      bindAddress: '0.0.0.0',
      proxyPortRange: { base: 40000, size: 100 },
      minSyncPeriodMs: 1000,
      syncPeriodMs: 30000,
      nodePortAddresses: [],
    });
    expect(userspaceOptionsFromConfig(c, 'IPv6', false).bindAddress).toBe('::');
  });

  it('serves node ports on nodePortAddresses in bind-only mode', () => {
    const c = { ...defaultKubeProxyConfiguration(), nodePortAddresses: ['192.168.5.0/24'] };
    const o = userspaceOptionsFromConfig(c, 'IPv4', true, { localAddresses: ['192.168.5.7', '10.0.0.1'] });
    expect(o.nodePortAddresses).toEqual(['192.168.5.7']);
  });
});
