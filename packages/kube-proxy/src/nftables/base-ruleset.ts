import type { NftChain, NftContribution } from '@nodeagent/netfilter/nftables';
import { ContributionBuilder } from './contribution-builder';
import {
  CLUSTER_IPS_CHECK,
  CLUSTER_IPS_SET,
  ENDPOINT_HAIRPIN_SET,
  endpointMapName,
  FILTER_FORWARD,
  FILTER_INPUT,
  FILTER_OUTPUT,
  FILTER_OUTPUT_POST_DNAT,
  FILTER_PREROUTING,
  FIREWALL_CHECK,
  FIREWALL_IPS,
  MARK_MASQ,
  MASQUERADING,
  NAT_OUTPUT,
  NAT_POSTROUTING,
  NAT_PREROUTING,
  NO_ENDPOINT_NODEPORTS,
  NO_ENDPOINT_SERVICES,
  NODEPORT_ENDPOINTS_CHECK,
  NODEPORT_IPS_SET,
  NODEPORTS,
  REJECT_CHAIN,
  SERVICE_ENDPOINTS_CHECK,
  SERVICE_IPS,
  SERVICE_NODEPORTS,
  SERVICE_PROTOCOLS,
  SERVICES,
} from './nftables-names';
import type { NftFamilyContext } from './nftables-options';

// Upstream's "dstnat - 10" etc. as numbers: nft only accepts the names on some hooks.
const DSTNAT = -100;
const SRCNAT = 100;

/** Base chains: filtering runs before DNAT so it sees the original destination. */
const BASE_CHAINS: readonly NftChain[] = [
  { kind: 'chain', name: FILTER_PREROUTING, type: 'filter', hook: 'prerouting', priority: DSTNAT - 10 },
  { kind: 'chain', name: FILTER_INPUT, type: 'filter', hook: 'input', priority: DSTNAT - 10 },
  { kind: 'chain', name: FILTER_FORWARD, type: 'filter', hook: 'forward', priority: DSTNAT - 10 },
  { kind: 'chain', name: FILTER_OUTPUT, type: 'filter', hook: 'output', priority: DSTNAT - 10 },
  { kind: 'chain', name: FILTER_OUTPUT_POST_DNAT, type: 'filter', hook: 'output', priority: DSTNAT + 10 },
  { kind: 'chain', name: NAT_PREROUTING, type: 'nat', hook: 'prerouting', priority: DSTNAT },
  { kind: 'chain', name: NAT_OUTPUT, type: 'nat', hook: 'output', priority: DSTNAT },
  { kind: 'chain', name: NAT_POSTROUTING, type: 'nat', hook: 'postrouting', priority: SRCNAT },
];

/** [target chain, from base chain, extra match] — upstream's nftablesJumpChains. */
const JUMP_CHAINS: readonly [string, string, string][] = [
  [NODEPORT_ENDPOINTS_CHECK, FILTER_INPUT, 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, FILTER_INPUT, 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, FILTER_FORWARD, 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK, FILTER_OUTPUT, 'ct state new'],
  [FIREWALL_CHECK, FILTER_PREROUTING, 'ct state new'],
  [FIREWALL_CHECK, FILTER_OUTPUT, 'ct state new'],
  [SERVICES, NAT_OUTPUT, ''],
  [SERVICES, NAT_PREROUTING, ''],
  [MASQUERADING, NAT_POSTROUTING, ''],
  [CLUSTER_IPS_CHECK, FILTER_FORWARD, 'ct state new'],
  [CLUSTER_IPS_CHECK, FILTER_OUTPUT_POST_DNAT, 'ct state new'],
];

/**
 * Everything in the table that does not depend on Services: base chains and jumps, the
 * dispatch maps (filled per Service), masquerading, and the endpoint maps the per-count chains
 * DNAT through.
 */
export function baseRuleset(ctx: NftFamilyContext): NftContribution {
  const { ipX, addrType, mark } = ctx;
  const b = new ContributionBuilder();
  const matchAll = ctx.nodePortIPs.length === 0;
  for (const c of BASE_CHAINS) b.chain(c);
  for (const name of [
    SERVICES,
    CLUSTER_IPS_CHECK,
    MASQUERADING,
    MARK_MASQ,
    NODEPORT_ENDPOINTS_CHECK,
    SERVICE_ENDPOINTS_CHECK,
    FIREWALL_CHECK,
    NODEPORTS,
    REJECT_CHAIN,
  ]) {
    b.chain(name);
  }
  for (const [target, from, extra] of JUMP_CHAINS) b.rule(from, `${extra ? `${extra} ` : ''}jump ${target}`);

  b.rule(MARK_MASQ, `mark set mark or ${mark}`);
  // The endpoint chains upstream writes per endpoint mark hairpin traffic before DNAT; with
  // endpoints as map elements the pair (source, DNATed destination) is looked up here instead.
  b.rule(
    MASQUERADING,
    `ct status dnat ${ipX} saddr . ${ipX} daddr @${ENDPOINT_HAIRPIN_SET} jump ${MARK_MASQ}`,
    'masquerade hairpin traffic',
  );
  b.rule(MASQUERADING, `mark and ${mark} == 0 return`);
  b.rule(MASQUERADING, `mark set mark xor ${mark}`);
  b.rule(MASQUERADING, 'masquerade fully-random');
  b.rule(REJECT_CHAIN, 'reject');

  b.set({ kind: 'set', name: CLUSTER_IPS_SET, type: addrType, comment: 'Active ClusterIPs' });
  b.set({
    kind: 'set',
    name: ENDPOINT_HAIRPIN_SET,
    type: `${addrType} . ${addrType}`,
    comment: 'endpoint IP . endpoint IP, to masquerade hairpin traffic',
  });
  b.rule(
    CLUSTER_IPS_CHECK,
    `${ipX} daddr @${CLUSTER_IPS_SET} reject`,
    'Reject traffic to invalid ports of ClusterIPs',
  );
  if (!matchAll) {
    b.set({
      kind: 'set',
      name: NODEPORT_IPS_SET,
      type: addrType,
      comment: 'IPs that accept NodePort traffic',
    });
    for (const ip of ctx.nodePortIPs) b.element(NODEPORT_IPS_SET, [ip]);
  }
  const vmapKey = `${addrType} . inet_proto . inet_service`;
  const vmap = (name: string, type: string, comment: string) =>
    b.set({ kind: 'map', name, type, valueType: 'verdict', comment });
  vmap(NO_ENDPOINT_SERVICES, vmapKey, 'vmap to drop or reject packets to services with no endpoints');
  vmap(
    NO_ENDPOINT_NODEPORTS,
    'inet_proto . inet_service',
    'vmap to drop or reject packets to service nodeports with no endpoints',
  );
  vmap(FIREWALL_IPS, vmapKey, 'destinations that are subject to LoadBalancerSourceRanges');
  vmap(SERVICE_IPS, vmapKey, 'ClusterIP, ExternalIP and LoadBalancer IP traffic');
  vmap(SERVICE_NODEPORTS, 'inet_proto . inet_service', 'NodePort traffic');
  // typeof: the slot is a numgen result, which only has a datatype as an expression. The value's
  // port is typed with the protocol's own `dport`, one map per protocol, because:
  // - nft adds a match on that protocol (`meta l4proto tcp`) to every rule DNATing through the
  //   map, so a single map typed `tcp dport` silently sent no UDP/SCTP traffic anywhere;
  // - the protocol-agnostic `ip daddr . th dport` loads fine once, but nft 1.0.6 cannot use the
  //   map it reads back from the kernel in a new rule ("conflicting protocols specified: ip vs.
  //   th"), so adding a select chain for a new endpoint count in a later sync would fail.
  for (const protocol of SERVICE_PROTOCOLS) {
    for (const kind of ['cluster', 'local'] as const) {
      b.set({
        kind: 'map',
        name: endpointMapName(kind, false, protocol),
        typeof: true,
        type: `${ipX} daddr . meta l4proto . th dport . numgen random mod 1`,
        valueType: `${ipX} daddr . ${protocol} dport`,
        comment: `destination . protocol . port . slot to ${kind} endpoint`,
      });
      b.set({
        kind: 'map',
        name: endpointMapName(kind, true, protocol),
        typeof: true,
        type: 'meta l4proto . th dport . numgen random mod 1',
        valueType: `${ipX} daddr . ${protocol} dport`,
        comment: `protocol . node port . slot to ${kind} endpoint`,
      });
    }
  }

  b.rule(SERVICE_ENDPOINTS_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`);
  b.rule(
    NODEPORT_ENDPOINTS_CHECK,
    matchAll
      ? `fib daddr type local ${ctx.noLocalhost} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`
      : `${ipX} daddr @${NODEPORT_IPS_SET} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`,
  );
  b.rule(FIREWALL_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @${FIREWALL_IPS}`);
  // Upstream marks ClusterIP traffic from outside the pod network in each service chain; the
  // same match on the ClusterIP set serves every Service at once.
  if (ctx.masqueradeAll)
    b.rule(SERVICES, `${ipX} daddr @${CLUSTER_IPS_SET} jump ${MARK_MASQ}`, 'masquerade ClusterIP traffic');
  else if (ctx.detector.ifNotLocal)
    b.rule(
      SERVICES,
      `${ipX} daddr @${CLUSTER_IPS_SET} ${ctx.detector.ifNotLocal} jump ${MARK_MASQ}`,
      'masquerade off-cluster ClusterIP traffic',
    );
  b.rule(SERVICES, `${ipX} daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`);
  b.rule(
    SERVICES,
    matchAll
      ? `fib daddr type local ${ctx.noLocalhost} jump ${NODEPORTS}`
      : `${ipX} daddr @${NODEPORT_IPS_SET} jump ${NODEPORTS}`,
  );
  b.rule(NODEPORTS, `meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`);
  return b.build();
}
