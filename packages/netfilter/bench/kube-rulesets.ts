// kube-proxy-shaped rulesets for the benchmark: N Services × M endpoints each.
import { NftTransaction, type Ruleset } from '../src/index';
import {
  endpointProbability,
  KUBE_MARK_MASQ_CHAIN,
  KUBE_POSTROUTING_CHAIN,
  KUBE_SERVICES_CHAIN,
  type Rule,
  servicePortChainName,
  servicePortEndpointChainName,
  servicePortName,
} from '../src/iptables/index';

export function serviceIp(i: number): string {
  return `172.30.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

export function endpointIp(i: number, e: number, endpoints: number): string {
  const k = i * endpoints + e;
  return `10.${100 + (Math.floor(k / 65536) % 156)}.${Math.floor(k / 256) % 256}.${k % 256}`;
}

/**
 * The nat table upstream's iptables mode writes for ClusterIP Services: per Service a
 * KUBE-SERVICES jump, a KUBE-SVC chain with a masquerade rule and statistic-spread jumps, and
 * per endpoint a KUBE-SEP chain with a hairpin-masquerade rule and a DNAT. 32 rules per Service
 * with 10 endpoints.
 */
export function kubeIptablesRuleset(services: number, endpoints: number): Ruleset {
  const servicesRules: Rule[] = [];
  const chains: { name: string; rules: Rule[] }[] = [];
  for (let i = 0; i < services; i++) {
    const spn = servicePortName(`ns${i % 50}`, `svc${i}`, 'p80');
    const svc = servicePortChainName(spn, 'tcp');
    const vip = serviceIp(i);
    const clusterIp = [
      { kind: 'comment', comment: `${spn} cluster IP` },
      { kind: 'protocol', protocol: 'tcp' },
      { kind: 'destination', address: `${vip}/32` },
      { kind: 'port', protocol: 'tcp', destinationPort: 80 },
    ] as const;
    servicesRules.push({ matches: [...clusterIp], target: { kind: 'jump', chain: svc } });
    const svcRules: Rule[] = [
      {
        matches: [...clusterIp, { kind: 'source', address: '10.0.0.0/8', negate: true }],
        target: { kind: 'jump', chain: KUBE_MARK_MASQ_CHAIN },
      },
    ];
    for (let e = 0; e < endpoints; e++) {
      const ep = endpointIp(i, e, endpoints);
      const sep = servicePortEndpointChainName(spn, 'tcp', `${ep}:8080`);
      svcRules.push({
        matches: [
          { kind: 'comment', comment: `${spn} -> ${ep}:8080` },
          ...(e < endpoints - 1
            ? [
                {
                  kind: 'statistic' as const,
                  mode: 'random' as const,
                  probability: endpointProbability(e, endpoints),
                },
              ]
            : []),
        ],
        target: { kind: 'jump', chain: sep },
      });
      chains.push({
        name: sep,
        rules: [
          {
            matches: [
              { kind: 'comment', comment: spn },
              { kind: 'source', address: `${ep}/32` },
            ],
            target: { kind: 'jump', chain: KUBE_MARK_MASQ_CHAIN },
          },
          {
            matches: [
              { kind: 'comment', comment: spn },
              { kind: 'protocol', protocol: 'tcp' },
            ],
            target: { kind: 'dnat', toDestination: `${ep}:8080` },
          },
        ],
      });
    }
    chains.push({ name: svc, rules: svcRules });
  }
  return {
    family: 'ipv4',
    tables: [
      {
        name: 'nat',
        chains: [
          { name: KUBE_SERVICES_CHAIN, rules: servicesRules },
          {
            name: KUBE_MARK_MASQ_CHAIN,
            rules: [{ matches: [], target: { kind: 'mark', op: 'or', value: 0x4000 } }],
          },
          {
            name: KUBE_POSTROUTING_CHAIN,
            rules: [
              {
                matches: [{ kind: 'mark', value: 0x4000, mask: 0x4000, negate: true }],
                target: { kind: 'verdict', verdict: 'RETURN' },
              },
              { matches: [], target: { kind: 'mark', op: 'xor', value: 0x4000 } },
              {
                matches: [{ kind: 'comment', comment: 'kubernetes service traffic requiring SNAT' }],
                target: { kind: 'masquerade', randomFully: true },
              },
            ],
          },
          ...chains,
        ],
      },
    ],
  };
}

export const NFT_TABLE = 'kube-proxy';

/**
 * The same Services as an nftables table shaped so that common changes touch only set/map
 * elements: one `service-ips` set (for the masquerade decision) and one `service-backends`
 * map keyed by VIP . protocol . port . bucket (`numgen random mod buckets`) to endpoint
 * address . port. No per-Service or per-endpoint chains and no verdict maps: nft's cache and
 * the kernel's loop validation then stay the size of the three base chains, whatever the
 * number of Services.
 */
export function kubeNftTransaction(services: number, endpoints: number, buckets: number): NftTransaction {
  const tx = new NftTransaction()
    .add({ kind: 'table', comment: 'rules for kube-proxy' })
    .add({ kind: 'chain', name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat' })
    .add({ kind: 'chain', name: 'nat-output', type: 'nat', hook: 'output', priority: -100 })
    .add({ kind: 'chain', name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 'srcnat' })
    .add({ kind: 'chain', name: 'services' })
    .add({
      kind: 'set',
      name: 'service-ips',
      type: 'ipv4_addr . inet_proto . inet_service',
      comment: 'ClusterIPs',
    })
    .add({
      kind: 'map',
      name: 'service-backends',
      typeof: true,
      type: `ip daddr . meta l4proto . th dport . numgen random mod ${buckets}`,
      valueType: 'ip daddr . th dport',
    })
    .add({ kind: 'rule', chain: 'nat-prerouting', rule: 'jump services' })
    .add({ kind: 'rule', chain: 'nat-output', rule: 'jump services' })
    .add({
      kind: 'rule',
      chain: 'services',
      rule: 'ip saddr != 10.0.0.0/8 ip daddr . meta l4proto . th dport @service-ips meta mark set meta mark or 0x00004000',
    })
    .add({
      kind: 'rule',
      chain: 'services',
      rule: `dnat ip to ip daddr . meta l4proto . th dport . numgen random mod ${buckets} map @service-backends`,
    })
    .add({
      kind: 'rule',
      chain: 'nat-postrouting',
      rule: 'meta mark & 0x00004000 == 0x00004000 masquerade fully-random',
    });
  for (let i = 0; i < services; i++) {
    tx.add({ kind: 'element', container: 'service-ips', key: [serviceIp(i), 'tcp', '80'] });
  }
  for (let i = 0; i < services; i++) {
    for (let b = 0; b < buckets; b++) {
      tx.add({
        kind: 'element',
        container: 'service-backends',
        key: [serviceIp(i), 'tcp', '80', String(b)],
        value: [endpointIp(i, b % endpoints, endpoints), '8080'],
      });
    }
  }
  return tx;
}
