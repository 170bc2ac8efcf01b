import { parseScript } from '@nodeagent/netfilter/nftables';
import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import { buildNftablesRuleset, NftablesRuleset, nftLocalDetector } from '../src/nftables/index';
import { type EndpointSpec, service, slice } from './fixtures';

function build(
  services: Parameters<typeof snapshotFromObjects>[0]['services'],
  slices: Parameters<typeof snapshotFromObjects>[0]['endpointSlices'],
  family: 'IPv4' | 'IPv6' = 'IPv4',
) {
  const snapshot = snapshotFromObjects({ family, nodeName: 'node-a', services, endpointSlices: slices });
  const cidr = family === 'IPv4' ? '10.244.0.0/16' : 'fd00:10:244::/48';
  return buildNftablesRuleset(snapshot, {
    localDetector: nftLocalDetector({ cidr, ipv6: family === 'IPv6' }),
    nodeIP: '192.168.10.1',
  });
}

const eps = (...ips: string[]): EndpointSpec[] => ips.map((ip) => ({ ip, node: 'node-b' }));

/** Parses with @nodeagent/netfilter's script parser (syntax and object references). */
function expectParses(script: string, family: 'ip' | 'ip6' = 'ip'): void {
  expect(() => parseScript(script, family, 'kube-proxy')).not.toThrow();
}

describe('nftables ruleset (golden)', () => {
  it('ClusterIP with affinity, LoadBalancer with source ranges and eTP=Local, no-endpoint service', async () => {
    const r = build(
      [
        service('web', {
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        }),
        service(
          'lb',
          {
            type: 'LoadBalancer',
            clusterIP: '10.96.0.30',
            externalTrafficPolicy: 'Local',
            healthCheckNodePort: 32100,
            loadBalancerSourceRanges: ['192.168.0.0/16'],
            ports: [{ name: 'https', port: 443, nodePort: 30443 }],
          },
          { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } },
        ),
        service('none', { clusterIP: '10.96.0.40', externalIPs: ['198.51.100.7'] }),
        service('dns', {
          type: 'NodePort',
          clusterIP: '10.96.0.53',
          ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
        }),
      ],
      [
        slice('web', eps('10.244.1.5', '10.244.2.7')),
        slice('dns', eps('10.244.1.9', '10.244.2.9'), {
          ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
        }),
        slice(
          'lb',
          [
            { ip: '10.244.1.5', node: 'node-a' },
            { ip: '10.244.2.7', node: 'node-b' },
          ],
          {
            ports: [{ name: 'https', port: 8443 }],
          },
        ),
      ],
    );
    await expect(r.script).toMatchFileSnapshot('golden/mixed.nft');
    expectParses(r.script);
  });

  it('IPv6 NodePort', async () => {
    const r = build(
      [
        service('v6', {
          clusterIP: 'fd00:10:96::20',
          clusterIPs: ['fd00:10:96::20'],
          type: 'NodePort',
          ports: [{ name: 'http', port: 80, nodePort: 30081 }],
        }),
      ],
      [slice('v6', [{ ip: 'fd00:10:244::5', node: 'node-b' }], { addressType: 'IPv6' })],
      'IPv6',
    );
    await expect(r.script).toMatchFileSnapshot('golden/ipv6-nodeport.nft');
    expect(r.script).toContain('ip6 daddr != ::1');
    expectParses(r.script, 'ip6');
  });
});

describe('nftables ruleset (behaviour)', () => {
  it('rejects services without endpoints through the no-endpoint-services map', () => {
    const r = build([service('none')], []);
    expect(r.script).toMatch(
      /add element ip kube-proxy no-endpoint-services \{ 10\.96\.0\.10 \. tcp \. 80 comment "default\/none:http" : goto reject-chain \}/,
    );
    expect(r.script).not.toContain('service-ips { 10.96.0.10');
  });

  it('drops external traffic for eTP=Local without local endpoints', () => {
    const r = build(
      [
        service('np', {
          type: 'NodePort',
          externalTrafficPolicy: 'Local',
          ports: [{ name: 'http', port: 80, nodePort: 30080 }],
        }),
      ],
      [slice('np', eps('10.244.2.2'))],
    );
    expect(r.script).toContain('no-endpoint-nodeports { tcp . 30080 comment "default/np:http" : drop }');
    expect(r.noLocalEndpoints.external).toBe(1);
  });

  it('balances with numgen over every endpoint through the endpoint map', () => {
    const r = build([service('web')], [slice('web', eps('10.244.1.1', '10.244.1.2', '10.244.1.3'))]);
    expect(r.script).toContain(
      'add rule ip kube-proxy cluster-endpoints-3 dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 3 map @service-cluster-endpoints',
    );
    expect(r.script).toContain('10.96.0.10 . tcp . 80 comment "default/web:http" : goto cluster-endpoints-3');
    const slots = r.script
      .split('\n')
      .find((l) => l.startsWith('add element ip kube-proxy service-cluster-endpoints'));
    expect(slots).toBe(
      'add element ip kube-proxy service-cluster-endpoints { 10.96.0.10 . tcp . 80 . 0 : 10.244.1.1 . 8080, 10.96.0.10 . tcp . 80 . 1 : 10.244.1.2 . 8080, 10.96.0.10 . tcp . 80 . 2 : 10.244.1.3 . 8080 }',
    );
  });

  it("DNATs each protocol through its own endpoint map whose value port is that protocol's", () => {
    const r = build(
      [
        service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
        service('dns', {
          clusterIP: '10.96.0.53',
          type: 'NodePort',
          ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
        }),
        service('sig', {
          clusterIP: '10.96.0.54',
          ports: [{ name: 'sig', port: 3868, protocol: 'SCTP' }],
        }),
      ],
      [
        slice('web', eps('10.244.1.1', '10.244.1.2')),
        slice('dns', eps('10.244.1.3', '10.244.1.4'), {
          ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }],
        }),
        slice('sig', eps('10.244.1.5', '10.244.1.6'), {
          ports: [{ name: 'sig', port: 3868, protocol: 'SCTP' }],
        }),
      ],
    );
    const lines = r.script.split('\n');
    // Every endpoint map's value port names the protocol whose traffic reaches the rules using it.
    const maps = lines.filter((l) => /^add map ip kube-proxy \S*-endpoints /.test(l));
    expect(maps).toHaveLength(12);
    for (const m of maps) {
      const name = /add map ip kube-proxy (\S+)/.exec(m)![1]!;
      const proto = /^(udp|sctp)-/.exec(name)?.[1] ?? 'tcp';
      expect(m).toContain(`: ip daddr . ${proto} dport ;`);
    }
    // Each select chain DNATs through the map of its own protocol, and only its protocol's
    // dispatch elements send traffic to it.
    const selects = lines.filter((l) => / dnat ip to .* map @/.test(l));
    expect(selects.length).toBeGreaterThanOrEqual(5);
    for (const rule of selects) {
      const [, chain, map] = / kube-proxy (\S+) dnat .* map @(\S+)$/.exec(rule)!;
      const chainProto = /^(udp|sctp)-/.exec(chain!)?.[1] ?? 'tcp';
      const mapProto = /^(udp|sctp)-/.exec(map!)?.[1] ?? 'tcp';
      expect(mapProto).toBe(chainProto);
      for (const el of r.script.match(new RegExp(`[^,{]+ : goto ${chain}\\b`, 'g')) ?? [])
        expect(el).toMatch(new RegExp(`(^|\\s)${chainProto} \\. `));
    }
    expect(r.script).toContain(
      '10.96.0.53 . udp . 53 comment "default/dns:dns" : goto udp-cluster-endpoints-2',
    );
    expect(r.script).toContain('udp . 30053 comment "default/dns:dns" : goto udp-nodeport-external-2');
    expect(r.script).toContain(
      '10.96.0.54 . sctp . 3868 comment "default/sig:sig" : goto sctp-cluster-endpoints-2',
    );
    expect(r.script).toContain(
      'add element ip kube-proxy udp-service-cluster-endpoints { 10.96.0.53 . udp . 53 . 0 : 10.244.1.3 . 5353',
    );
    expect(r.script).toContain('10.96.0.10 . tcp . 80 comment "default/web:http" : goto cluster-endpoints-2');
    expectParses(r.script);
  });

  it('keeps upstream per-endpoint chains and affinity sets for ClientIP affinity', () => {
    const r = build(
      [service('web', { sessionAffinity: 'ClientIP' })],
      [slice('web', eps('10.244.1.1', '10.244.1.2'))],
    );
    const line = r.script.split('\n').find((l) => l.includes('numgen random mod 2 vmap'))!;
    expect(line.match(/goto endpoint-/g)).toHaveLength(2);
    expect(r.script).toMatch(
      /add set ip kube-proxy affinity-\S+ \{ type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; \}/,
    );
    expect(r.script).not.toContain('add element ip kube-proxy service-cluster-endpoints');
  });

  it('shares one selection chain between Services with the same endpoint count', () => {
    const r = build(
      [service('a', { clusterIP: '10.96.0.11' }), service('b', { clusterIP: '10.96.0.12' })],
      [slice('a', eps('10.244.1.1', '10.244.1.2')), slice('b', eps('10.244.2.1', '10.244.2.2'))],
    );
    expect(r.script.match(/^add chain ip kube-proxy cluster-endpoints-2$/gm)).toHaveLength(1);
    expect(r.script.match(/goto cluster-endpoints-2/g)).toHaveLength(2);
  });

  it('hands every Service port the very same shared chain object (built once per ruleset)', () => {
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'node-a',
      services: [service('a', { clusterIP: '10.96.0.11' }), service('b', { clusterIP: '10.96.0.12' })],
      endpointSlices: [slice('a', eps('10.244.1.1')), slice('b', eps('10.244.2.1'))],
    });
    const ruleset = new NftablesRuleset('IPv4');
    ruleset.update(snapshot);
    const a = ruleset.table.get('default/a:http')?.chains;
    const b = ruleset.table.get('default/b:http')?.chains;
    expect(a?.map((c) => c.chain.name)).toEqual(['cluster-endpoints-1']);
    expect(b?.[0]).toBe(a?.[0]);
    expect(Object.isFrozen(a?.[0]?.rules)).toBe(true);
  });

  it('replaces the whole table atomically', () => {
    const lines = build([], []).script.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
      'delete table ip kube-proxy',
      'add table ip kube-proxy { comment "rules for kube-proxy" ; }',
    ]);
  });
});
