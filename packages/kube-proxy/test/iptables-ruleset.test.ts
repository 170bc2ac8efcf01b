import { parseSave, validateRuleset } from '@nodeagent/netfilter/iptables';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import {
  cidrLocalDetector,
  endpointChainName,
  type IptablesRuleset,
  isServiceChainName,
  serviceChainNames,
} from '../src/iptables/index';
import { type EndpointSpec, service, slice } from './fixtures';
import { renderedRuleset } from './rendered-ruleset';

const detectors = { IPv4: cidrLocalDetector('10.244.0.0/16'), IPv6: cidrLocalDetector('fd00:10:244::/48') };

function build(
  services: Parameters<typeof snapshotFromObjects>[0]['services'],
  slices: Parameters<typeof snapshotFromObjects>[0]['endpointSlices'],
  extra: { family?: 'IPv4' | 'IPv6'; existingNatChains?: string[] } = {},
) {
  const snapshot = snapshotFromObjects({
    family: extra.family ?? 'IPv4',
    nodeName: 'node-a',
    nodeLabels: { 'topology.kubernetes.io/zone': 'zone-a' },
    services,
    endpointSlices: slices,
  });
  return renderedRuleset(
    snapshot,
    { localDetector: detectors[extra.family ?? 'IPv4'], nodeIP: '192.168.10.1' },
    extra.existingNatChains,
  );
}

/** The payload parses as iptables-save text and passes @nodeagent/netfilter's validator. */
function expectValid(payload: string, family: 'ipv4' | 'ipv6' = 'ipv4'): void {
  expect(() => validateRuleset(parseSave(payload, family))).not.toThrow();
}

/** Per-service NAT chains (KUBE-SVC/SVL/EXT/FW/SEP) a ruleset declares. */
const serviceChains = (rs: IptablesRuleset) => rs.nat.chains.filter((c) => isServiceChainName(c));

const eps = (...ips: string[]): EndpointSpec[] => ips.map((ip) => ({ ip, node: 'node-b' }));
const rules = (rs: IptablesRuleset, table: 'filter' | 'nat') => rs[table].rules.map((r) => r.join(' '));

/** Every jump target must be a built-in target, a declared chain, or one of our top-level chains. */
function danglingJumps(rs: IptablesRuleset): string[] {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const declared = new Set(rs[table].chains);
    for (const r of rs[table].rules) {
      if (!declared.has(r[1]!)) out.push(`${table}: rule in undeclared chain ${r[1]}`);
      const j = r.indexOf('-j');
      if (j < 0) continue; // a comment-only rule (the end of a KUBE-FW chain) jumps nowhere
      const target = r[j + 1]!;
      if (/^(ACCEPT|DROP|REJECT|RETURN|DNAT|MARK|MASQUERADE)$/.test(target)) continue;
      if (!declared.has(target)) out.push(`${table}: jump to undeclared ${target}`);
    }
  }
  return out;
}

describe('iptables ruleset (golden)', () => {
  it('ClusterIP with two endpoints and session affinity', async () => {
    const r = build(
      [
        service('web', {
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        }),
      ],
      [slice('web', eps('10.244.1.5', '10.244.2.7'))],
    );
    await expect(r.payload).toMatchFileSnapshot('golden/clusterip-affinity.iptables');
    expect(danglingJumps(r.ruleset)).toEqual([]);
    expectValid(r.payload);
  });

  it('NodePort + LoadBalancer with source ranges, eTP=Local, health check port', async () => {
    const r = build(
      [
        service(
          'lb',
          {
            type: 'LoadBalancer',
            clusterIP: '10.96.0.30',
            externalTrafficPolicy: 'Local',
            healthCheckNodePort: 32100,
            loadBalancerSourceRanges: ['192.168.0.0/16'],
            ports: [{ name: 'https', port: 443, nodePort: 30443, protocol: 'TCP' }],
          },
          { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } },
        ),
      ],
      [
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
    await expect(r.payload).toMatchFileSnapshot('golden/loadbalancer-local.iptables');
    expect(danglingJumps(r.ruleset)).toEqual([]);
    expectValid(r.payload);
  });

  it('services without endpoints, with no local endpoints, externalIPs and UDP', async () => {
    const r = build(
      [
        service('none', { clusterIP: '10.96.0.40', externalIPs: ['198.51.100.7'] }),
        service('itp', { clusterIP: '10.96.0.41', internalTrafficPolicy: 'Local' }),
        service('dns', {
          type: 'NodePort',
          clusterIP: '10.96.0.10',
          ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
        }),
      ],
      [
        slice('itp', eps('10.244.2.9')),
        slice('dns', eps('10.244.3.3'), { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      ],
    );
    await expect(r.payload).toMatchFileSnapshot('golden/no-endpoints-udp.iptables');
    expect(r.noLocalEndpoints).toEqual({ internal: 1, external: 0 });
    expect(danglingJumps(r.ruleset)).toEqual([]);
    expectValid(r.payload);
  });

  it('IPv6 ClusterIP', async () => {
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
      { family: 'IPv6' },
    );
    await expect(r.payload).toMatchFileSnapshot('golden/ipv6-nodeport.iptables');
    expectValid(r.payload, 'ipv6');
  });
});

describe('iptables ruleset (behaviour)', () => {
  it('uses upstream chain names', () => {
    const names = serviceChainNames('ns1/svc1:p80', 'TCP');
    expect(names.cluster).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
    expect(names.external).toBe('KUBE-EXT-XPGD46QRK7WJZT7O');
    expect(endpointChainName('ns1/svc1:p80', 'TCP', '10.180.0.1:80')).toBe('KUBE-SEP-SXIVWICOYRO3J4NJ');
  });

  it('rejects in the filter table and writes no nat chains when there are no endpoints', () => {
    const r = build([service('none')], []);
    expect(rules(r.ruleset, 'filter')).toContain(
      '-A KUBE-SERVICES -m comment --comment default/none:http has no endpoints -d 10.96.0.10 -p tcp -m tcp --dport 80 -j REJECT',
    );
    expect(serviceChains(r.ruleset)).toEqual([]);
  });

  it('drops external traffic for eTP=Local without local endpoints but keeps cluster IP working', () => {
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
    const filter = rules(r.ruleset, 'filter');
    expect(
      filter.some((l) => l.includes('KUBE-EXTERNAL-SERVICES') && l.includes('--dport 30080 -j DROP')),
    ).toBe(true);
    expect(
      rules(r.ruleset, 'nat').some((l) => l.startsWith('-A KUBE-SERVICES') && l.includes('cluster IP')),
    ).toBe(true);
    expect(r.noLocalEndpoints.external).toBe(1);
  });

  it('spreads over endpoints with decreasing probabilities, the last rule unconditional', () => {
    const r = build(
      [service('web')],
      [slice('web', eps('10.244.1.1', '10.244.1.2', '10.244.1.3', '10.244.1.4'))],
    );
    const svc = serviceChainNames('default/web:http', 'TCP').cluster;
    const lb = r.ruleset.nat.rules.filter((x) => x[1] === svc && x.includes('KUBE-MARK-MASQ') === false);
    const probs = lb.map((x) => (x.includes('--probability') ? x[x.indexOf('--probability') + 1] : 'last'));
    expect(probs).toEqual(['0.2500000000', '0.3333333333', '0.5000000000', 'last']);
  });

  it('deletes stale service chains it owns and nothing else', () => {
    const r = build([service('web')], [slice('web', eps('10.244.1.1'))], {
      existingNatChains: [
        'KUBE-SVC-STALESTALESTALE1',
        'KUBE-SEP-STALESTALESTALE2',
        'KUBE-SERVICES',
        'CNI-HOSTPORT',
        'KUBE-MARK-DROP',
      ],
    });
    expect(r.ruleset.nat.deleteChains).toEqual(['KUBE-SEP-STALESTALESTALE2', 'KUBE-SVC-STALESTALESTALE1']);
    const payload = r.payload;
    expect(payload).toContain(':KUBE-SVC-STALESTALESTALE1 - [0:0]\n');
    expect(payload).toContain('-X KUBE-SVC-STALESTALESTALE1\n');
  });

  it('masqueradeAll masquerades every cluster IP packet', () => {
    const snapshot = snapshotFromObjects({
      family: 'IPv4',
      nodeName: 'n',
      services: [service('web')],
      endpointSlices: [slice('web', eps('10.244.1.1'))],
    });
    const r = renderedRuleset(snapshot, { masqueradeAll: true });
    const svc = serviceChainNames('default/web:http', 'TCP').cluster;
    expect(
      r.ruleset.nat.rules.some((x) => x[1] === svc && x.at(-1) === 'KUBE-MARK-MASQ' && !x.includes('!')),
    ).toBe(true);
  });

  it('property: any mix of services yields no dangling jumps and one SEP chain per reachable endpoint', () => {
    const svcArb = fc.record({
      type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
      etpLocal: fc.boolean(),
      itpLocal: fc.boolean(),
      affinity: fc.boolean(),
      protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
      ranges: fc.boolean(),
      endpoints: fc.array(
        fc.record({ local: fc.boolean(), ready: fc.boolean(), terminating: fc.boolean() }),
        { maxLength: 4 },
      ),
    });
    fc.assert(
      fc.property(fc.array(svcArb, { minLength: 1, maxLength: 6 }), (specs) => {
        const services = specs.map((s, i) =>
          service(
            `s${i}`,
            {
              type: s.type,
              clusterIP: `10.96.1.${i + 1}`,
              ...(s.type !== 'ClusterIP' && s.etpLocal ? { externalTrafficPolicy: 'Local' } : {}),
              ...(s.itpLocal ? { internalTrafficPolicy: 'Local' } : {}),
              ...(s.affinity ? { sessionAffinity: 'ClientIP' } : {}),
              ...(s.ranges ? { loadBalancerSourceRanges: ['192.168.0.0/16'] } : {}),
              ports: [
                {
                  name: 'p',
                  port: 80,
                  protocol: s.protocol,
                  ...(s.type !== 'ClusterIP' ? { nodePort: 30000 + i } : {}),
                },
              ],
            },
            s.type === 'LoadBalancer'
              ? { loadBalancer: { ingress: [{ ip: `203.0.113.${i + 1}` }] } }
              : undefined,
          ),
        );
        const slices = specs.map((s, i) =>
          slice(
            `s${i}`,
            s.endpoints.map((e, j) => ({
              ip: `10.244.${i}.${j + 1}`,
              node: e.local ? 'node-a' : 'node-b',
              ready: e.ready,
              serving: e.ready || e.terminating,
              terminating: e.terminating,
            })),
            { ports: [{ name: 'p', port: 8080, protocol: s.protocol }] },
          ),
        );
        const r = build(services, slices);
        expect(danglingJumps(r.ruleset)).toEqual([]);
        expectValid(r.payload);
        const dnats = r.ruleset.nat.rules.filter((x) => x.includes('DNAT')).length;
        expect(dnats).toBe(serviceChains(r.ruleset).filter((c) => c.startsWith('KUBE-SEP-')).length);
        // Every per-service chain the payload declares is reached from a rule.
        const targets = new Set(r.ruleset.nat.rules.map((x) => x[x.indexOf('-j') + 1]));
        for (const c of serviceChains(r.ruleset)) expect(targets.has(c)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
