import {
  endpointAffinitySetName,
  endpointChainBase,
  endpointChainName,
  type NftChain,
  NftTransaction,
  nftServiceExternalChainName,
  nftServiceFirewallChainName,
  nftServiceLocalChainName,
  nftServicePortChainName,
  renderScript,
  servicePortChainBase,
} from '@nodeagent/netfilter';
import { categorizeEndpoints } from '../model/categorize-endpoints';
import { cidrContains } from '../model/cidr';
import type { EndpointInfo } from '../model/endpoint';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import {
  externallyAccessible,
  type ServicePort,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model/service-port';

/** kube-proxy's table name in both the `ip` and `ip6` families. */
export const NFTABLES_TABLE = 'kube-proxy';

// Upstream's chain, set and map names (pkg/proxy/nftables).
const FILTER_PREROUTING = 'filter-prerouting';
const FILTER_INPUT = 'filter-input';
const FILTER_FORWARD = 'filter-forward';
const FILTER_OUTPUT = 'filter-output';
const FILTER_OUTPUT_POST_DNAT = 'filter-output-post-dnat';
const NAT_PREROUTING = 'nat-prerouting';
const NAT_OUTPUT = 'nat-output';
const NAT_POSTROUTING = 'nat-postrouting';
const SERVICES = 'services';
const MASQUERADING = 'masquerading';
const MARK_MASQ = 'mark-for-masquerade';
const NODEPORTS = 'nodeports';
const CLUSTER_IPS_CHECK = 'cluster-ips-check';
const SERVICE_ENDPOINTS_CHECK = 'service-endpoints-check';
const NODEPORT_ENDPOINTS_CHECK = 'nodeport-endpoints-check';
const FIREWALL_CHECK = 'firewall-check';
const REJECT_CHAIN = 'reject-chain';
const CLUSTER_IPS_SET = 'cluster-ips';
const NODEPORT_IPS_SET = 'nodeport-ips';
const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
const FIREWALL_IPS = 'firewall-ips';
const SERVICE_IPS = 'service-ips';
const SERVICE_NODEPORTS = 'service-nodeports';

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

/** Local-traffic detection as nft match expressions. */
export interface NftLocalDetector {
  readonly ifLocal?: string;
  readonly ifNotLocal?: string;
}

export interface NftablesBackendOptions {
  masqueradeBit?: number;
  masqueradeAll?: boolean;
  /** e.g. cidr 10.244.0.0/16 → { ifLocal: 'ip saddr 10.244.0.0/16', ifNotLocal: 'ip saddr != 10.244.0.0/16' } */
  localDetector?: NftLocalDetector;
  /** NodePort addresses; undefined = every local address. */
  nodePortIPs?: readonly string[];
  nodeIP?: string;
}

/** nft forms of the iptables local detectors (cidr / bridge / interface prefix). */
export function nftLocalDetector(
  mode: { cidr: string; ipv6: boolean } | { bridge: string } | { interfacePrefix: string } | undefined,
): NftLocalDetector {
  if (!mode) return {};
  if ('cidr' in mode) {
    const ipX = mode.ipv6 ? 'ip6' : 'ip';
    return { ifLocal: `${ipX} saddr ${mode.cidr}`, ifNotLocal: `${ipX} saddr != ${mode.cidr}` };
  }
  if ('bridge' in mode) return { ifLocal: `iif ${mode.bridge}`, ifNotLocal: `iif != ${mode.bridge}` };
  return { ifLocal: `iifname ${mode.interfacePrefix}*`, ifNotLocal: `iifname != ${mode.interfacePrefix}*` };
}

export interface NftablesBuildResult {
  /** A full-replacement transaction: the table is deleted and rebuilt atomically. */
  readonly transaction: NftTransaction;
  /** `nft -f -` input for the transaction. */
  readonly script: string;
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/**
 * The nftables ruleset upstream's nftables mode programs for a snapshot, as one atomic
 * transaction that replaces the `kube-proxy` table of the snapshot's family.
 */
export function buildNftablesRuleset(
  snapshot: ProxySnapshot,
  options: NftablesBackendOptions = {},
): NftablesBuildResult {
  const ipv6 = snapshot.family === 'IPv6';
  const ipX = ipv6 ? 'ip6' : 'ip';
  const addrType = ipv6 ? 'ipv6_addr' : 'ipv4_addr';
  const noLocalhost = ipv6 ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8';
  const mark = `0x${(2 ** (options.masqueradeBit ?? 14)).toString(16).padStart(8, '0')}`;
  const detector = options.localDetector ?? {};
  const matchAll = !options.nodePortIPs || options.nodePortIPs.length === 0;
  const tx = new NftTransaction();
  const table = { kind: 'table' as const, comment: 'rules for kube-proxy' };
  // add+delete+add replaces the table atomically whether or not it existed.
  tx.add(table).delete(table).add(table);
  const chain = (name: string) => tx.add({ kind: 'chain', name });
  const rule = (c: string, r: string, comment?: string) =>
    tx.add({ kind: 'rule', chain: c, rule: r, ...(comment ? { comment } : {}) });
  const element = (container: string, key: string[], value?: string[], comment?: string) =>
    tx.add({ kind: 'element', container, key, ...(value ? { value } : {}), ...(comment ? { comment } : {}) });

  for (const c of BASE_CHAINS) tx.add(c);
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
    chain(name);
  }
  for (const [target, from, extra] of JUMP_CHAINS) rule(from, `${extra ? `${extra} ` : ''}jump ${target}`);

  rule(MARK_MASQ, `mark set mark or ${mark}`);
  rule(MASQUERADING, `mark and ${mark} == 0 return`);
  rule(MASQUERADING, `mark set mark xor ${mark}`);
  rule(MASQUERADING, 'masquerade fully-random');
  rule(REJECT_CHAIN, 'reject');

  tx.add({ kind: 'set', name: CLUSTER_IPS_SET, type: addrType, comment: 'Active ClusterIPs' });
  rule(
    CLUSTER_IPS_CHECK,
    `${ipX} daddr @${CLUSTER_IPS_SET} reject`,
    'Reject traffic to invalid ports of ClusterIPs',
  );
  if (!matchAll) {
    tx.add({
      kind: 'set',
      name: NODEPORT_IPS_SET,
      type: addrType,
      comment: 'IPs that accept NodePort traffic',
    });
    for (const ip of options.nodePortIPs ?? []) element(NODEPORT_IPS_SET, [ip]);
  }
  const vmapKey = `${addrType} . inet_proto . inet_service`;
  tx.add({
    kind: 'map',
    name: NO_ENDPOINT_SERVICES,
    type: vmapKey,
    valueType: 'verdict',
    comment: 'vmap to drop or reject packets to services with no endpoints',
  });
  tx.add({
    kind: 'map',
    name: NO_ENDPOINT_NODEPORTS,
    type: 'inet_proto . inet_service',
    valueType: 'verdict',
    comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
  });
  tx.add({
    kind: 'map',
    name: FIREWALL_IPS,
    type: vmapKey,
    valueType: 'verdict',
    comment: 'destinations that are subject to LoadBalancerSourceRanges',
  });
  tx.add({
    kind: 'map',
    name: SERVICE_IPS,
    type: vmapKey,
    valueType: 'verdict',
    comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
  });
  tx.add({
    kind: 'map',
    name: SERVICE_NODEPORTS,
    type: 'inet_proto . inet_service',
    valueType: 'verdict',
    comment: 'NodePort traffic',
  });
  rule(SERVICE_ENDPOINTS_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES}`);
  rule(
    NODEPORT_ENDPOINTS_CHECK,
    matchAll
      ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`
      : `${ipX} daddr @${NODEPORT_IPS_SET} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS}`,
  );
  rule(FIREWALL_CHECK, `${ipX} daddr . meta l4proto . th dport vmap @${FIREWALL_IPS}`);
  rule(SERVICES, `${ipX} daddr . meta l4proto . th dport vmap @${SERVICE_IPS}`);
  rule(
    SERVICES,
    matchAll
      ? `fib daddr type local ${noLocalhost} jump ${NODEPORTS}`
      : `${ipX} daddr @${NODEPORT_IPS_SET} jump ${NODEPORTS}`,
  );
  rule(NODEPORTS, `meta l4proto . th dport vmap @${SERVICE_NODEPORTS}`);

  let noLocalInternal = 0;
  let noLocalExternal = 0;
  const clusterIPs = new Set<string>();
  for (const key of [...snapshot.services.keys()].sort()) {
    const sp = snapshot.services.get(key)!;
    const cat = categorizeEndpoints(
      snapshot.endpoints.get(key) ?? [],
      sp,
      snapshot.nodeName,
      snapshot.nodeLabels,
    );
    const r = writeService(sp, cat, {
      ipX,
      addrType,
      detector,
      masqueradeAll: options.masqueradeAll ?? false,
      nodeIP: options.nodeIP,
      chain,
      rule,
      element,
      tx,
      clusterIPs,
    });
    if (r.noLocalInternal) noLocalInternal++;
    if (r.noLocalExternal) noLocalExternal++;
  }
  return {
    transaction: tx,
    script: renderScript(ipv6 ? 'ip6' : 'ip', NFTABLES_TABLE, tx, { emulateDestroy: false }),
    noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
  };
}

interface Ctx {
  ipX: string;
  addrType: string;
  detector: NftLocalDetector;
  masqueradeAll: boolean;
  nodeIP: string | undefined;
  chain: (name: string) => unknown;
  rule: (chain: string, rule: string, comment?: string) => unknown;
  element: (container: string, key: string[], value?: string[], comment?: string) => unknown;
  tx: NftTransaction;
  clusterIPs: Set<string>;
}

function writeService(
  sp: ServicePort,
  cat: ReturnType<typeof categorizeEndpoints>,
  ctx: Ctx,
): { noLocalInternal: boolean; noLocalExternal: boolean } {
  const { ipX, rule, element, chain } = ctx;
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const { namespace, name, port: portName } = sp.name;
  const base = servicePortChainBase(namespace, name, sp.protocol, portName);
  const clusterChain = nftServicePortChainName(base);
  const localChain = nftServiceLocalChainName(base);
  const externalChain = nftServiceExternalChainName(base);
  const fwChain = nftServiceFirewallChainName(base);
  const epBase = (ep: EndpointInfo) =>
    endpointChainBase(namespace, name, sp.protocol, portName, ep.ip, ep.port);
  const hasEndpoints = cat.hasAnyEndpoints;

  const usesClusterChain = cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
  const usesLocalChain = cat.localEndpoints.length > 0 && usesLocalEndpoints(sp);
  let internalChain = clusterChain;
  let hasInternal = hasEndpoints;
  if (sp.internalPolicyLocal) {
    internalChain = localChain;
    if (cat.localEndpoints.length === 0) hasInternal = false;
  }
  let externalPolicyChain = clusterChain;
  let hasExternal = hasEndpoints;
  if (sp.externalPolicyLocal) {
    externalPolicyChain = localChain;
    if (cat.localEndpoints.length === 0) hasExternal = false;
  }
  const usesExternalChain = hasEndpoints && externallyAccessible(sp);

  let internalVerdict = '';
  let externalVerdict = '';
  let noLocalInternal = false;
  let noLocalExternal = false;
  if (!hasEndpoints) {
    internalVerdict = externalVerdict = `goto ${REJECT_CHAIN}`;
  } else {
    if (!hasInternal) {
      internalVerdict = 'drop';
      noLocalInternal = true;
    }
    if (!hasExternal) {
      externalVerdict = 'drop';
      noLocalExternal = true;
    }
  }

  for (const ep of cat.allReachableEndpoints) chain(endpointChainName(epBase(ep)));
  if (usesClusterChain) chain(clusterChain);
  if (usesLocalChain) chain(localChain);
  if (usesExternalChain) chain(externalChain);

  if (!ctx.clusterIPs.has(sp.clusterIP)) {
    ctx.clusterIPs.add(sp.clusterIP);
    element(CLUSTER_IPS_SET, [sp.clusterIP]);
  }
  if (hasInternal) element(SERVICE_IPS, [sp.clusterIP, proto, port], [`goto ${internalChain}`]);
  else element(NO_ENDPOINT_SERVICES, [sp.clusterIP, proto, port], [internalVerdict], sp.key);

  for (const ip of sp.externalIPs) {
    if (hasEndpoints) element(SERVICE_IPS, [ip, proto, port], [`goto ${externalChain}`]);
    if (!hasExternal) element(NO_ENDPOINT_SERVICES, [ip, proto, port], [externalVerdict], sp.key);
  }

  const usesFirewall = sp.loadBalancerSourceRanges.length > 0 && sp.loadBalancerVIPs.length > 0;
  if (usesFirewall) {
    chain(fwChain);
    const sources = [...sp.loadBalancerSourceRanges];
    const nodeIP = ctx.nodeIP;
    if (nodeIP && sp.loadBalancerSourceRanges.some((c) => cidrContains(c, nodeIP)))
      sources.push(...sp.loadBalancerVIPs);
    rule(fwChain, `${ipX} saddr != { ${sources.join(', ')} } drop`);
  }
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints) element(SERVICE_IPS, [ip, proto, port], [`goto ${externalChain}`]);
    if (usesFirewall) element(FIREWALL_IPS, [ip, proto, port], [`goto ${fwChain}`], sp.key);
  }
  if (!hasExternal)
    for (const ip of sp.loadBalancerVIPs)
      element(NO_ENDPOINT_SERVICES, [ip, proto, port], [externalVerdict], sp.key);

  if (sp.nodePort !== 0) {
    if (hasEndpoints) element(SERVICE_NODEPORTS, [proto, String(sp.nodePort)], [`goto ${externalChain}`]);
    if (!hasExternal) element(NO_ENDPOINT_NODEPORTS, [proto, String(sp.nodePort)], [externalVerdict], sp.key);
  }

  if (hasInternal) {
    const m = `${ipX} daddr ${sp.clusterIP} ${proto} dport ${port}`;
    if (ctx.masqueradeAll) rule(internalChain, `${m} jump ${MARK_MASQ}`);
    else if (ctx.detector.ifNotLocal)
      rule(internalChain, `${m} ${ctx.detector.ifNotLocal} jump ${MARK_MASQ}`);
  }

  if (usesExternalChain) {
    if (!sp.externalPolicyLocal) {
      rule(externalChain, `jump ${MARK_MASQ}`);
    } else {
      if (ctx.detector.ifLocal)
        rule(externalChain, `${ctx.detector.ifLocal} goto ${clusterChain}`, 'short-circuit pod traffic');
      rule(externalChain, `fib saddr type local jump ${MARK_MASQ}`, 'masquerade local traffic');
      rule(externalChain, `fib saddr type local goto ${clusterChain}`, 'short-circuit local traffic');
    }
    if (hasExternal) rule(externalChain, `goto ${externalPolicyChain}`);
  }

  if (sp.stickyMaxAgeSeconds > 0) {
    for (const ep of cat.allReachableEndpoints) {
      ctx.tx.add({
        kind: 'set',
        name: endpointAffinitySetName(epBase(ep)),
        type: ctx.addrType,
        flags: ['dynamic', 'timeout'],
        timeout: `${sp.stickyMaxAgeSeconds}s`,
      });
    }
  }
  const toEndpoints = (svcChain: string, eps: readonly EndpointInfo[]) => {
    if (sp.stickyMaxAgeSeconds > 0) {
      for (const ep of eps) {
        rule(
          svcChain,
          `${ipX} saddr @${endpointAffinitySetName(epBase(ep))} goto ${endpointChainName(epBase(ep))}`,
        );
      }
    }
    const vmap = eps.map((ep, i) => `${i} : goto ${endpointChainName(epBase(ep))}`).join(' , ');
    rule(svcChain, `numgen random mod ${eps.length} vmap { ${vmap} }`);
  };
  if (usesClusterChain) toEndpoints(clusterChain, cat.clusterEndpoints);
  if (usesLocalChain) toEndpoints(localChain, cat.localEndpoints);

  for (const ep of cat.allReachableEndpoints) {
    const c = endpointChainName(epBase(ep));
    rule(c, `${ipX} saddr ${ep.ip} jump ${MARK_MASQ}`);
    if (sp.stickyMaxAgeSeconds > 0)
      rule(c, `update @${endpointAffinitySetName(epBase(ep))} { ${ipX} saddr }`);
    rule(c, `meta l4proto ${proto} dnat to ${ep.endpoint}`);
  }
  return { noLocalInternal, noLocalExternal };
}
