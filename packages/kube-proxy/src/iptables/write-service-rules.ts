import type { CategorizedEndpoints } from '../model/categorize-endpoints';
import { cidrContains } from '../model/cidr';
import type { EndpointInfo } from '../model/endpoint';
import {
  externallyAccessible,
  type ServicePort,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model/service-port';
import { LOCALHOST_NODEPORTS_ACCEPTED_COUNTER } from '../runtime/nfacct';
import type { LocalDetector } from '../shared/local-detector';
import {
  endpointChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  type ServiceChainNames,
} from './chain-names';
import type { IptablesBackendOptions } from './iptables-backend-options';

/** probability(n) for the endpoint counts seen so far: a full sync asks for 1/50 … 1/2 per Service. */
const probabilities: string[] = [];

/** Upstream prints 1/n with ten decimals. */
function probability(n: number): string {
  let text = probabilities[n];
  if (text === undefined) {
    text = (1 / n).toFixed(10);
    // Counts are small integers (endpoints of one Service); others are not kept.
    if (Number.isInteger(n) && n > 0 && n <= 1 << 16) probabilities[n] = text;
  }
  return text;
}

/** `-A <chain> -m comment --comment <text>`: how each rule naming a Service starts. */
function commentedRule(chain: string, comment: string): string[] {
  return ['-A', chain, '-m', 'comment', '--comment', comment];
}

export interface RuleSink {
  chain(name: string): void;
  rule(...args: string[]): void;
}

/**
 * Where a Service's rules go: `filter` and `nat` receive rules in our top-level chains
 * (KUBE-SERVICES, KUBE-NODEPORTS, ...), `svcNat` the Service's own chains. Each rule is an
 * argument vector starting with "-A", chain.
 */
export interface WriteServiceContext {
  filter: RuleSink;
  nat: RuleSink;
  svcNat: RuleSink;
  detector: LocalDetector;
  masqueradeAll: boolean;
  options: IptablesBackendOptions;
  /** Upstream's large cluster mode: no comments on per-endpoint rules (see isLargeClusterMode). */
  largeClusterMode?: boolean;
  /** Localhost NodePorts are active and the localhost_nps_accepted_pkts nfacct counter exists. */
  localhostNodePortsCounted?: boolean;
}

/** Writes one service port's rules, as upstream's syncProxyRules loop body does. */
export function writeServiceRules(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  chains: ServiceChainNames,
  ctx: WriteServiceContext,
): { noLocalInternal: boolean; noLocalExternal: boolean } {
  const plan = planServiceRules(sp, cat, chains, ctx);
  // The order matters: each sink's rules come out in the order they are written here.
  writeClusterIPRules(plan, ctx);
  writeExternalAddressRules(plan, ctx);
  writeNodePortRules(plan, ctx);
  // Per-service chains from here on (skipped for unchanged Services in a partial sync).
  writeInternalMasquerade(plan, ctx);
  if (plan.usesExternalChain) writeExternalChain(plan, ctx);
  if (plan.usesFirewallChain) writeFirewallChain(plan, ctx);
  writeEndpointChains(plan, cat, ctx.svcNat);
  return { noLocalInternal: plan.noLocalInternal, noLocalExternal: plan.noLocalExternal };
}

/** What one service port's rules are made of: which chains it uses and where each kind of traffic goes. */
interface ServiceRulePlan {
  readonly sp: ServicePort;
  readonly chains: ServiceChainNames;
  /** The service port's name (`ns/svc:port`), the comment most rules carry. */
  readonly name: string;
  /** The protocol in lower case, as iptables matches it. */
  readonly proto: string;
  readonly hasEndpoints: boolean;
  /** Cluster IP traffic has an endpoint to go to (a local one under internalTrafficPolicy Local). */
  readonly hasInternal: boolean;
  /** External traffic has an endpoint to go to (a local one under externalTrafficPolicy Local). */
  readonly hasExternal: boolean;
  /** The chain cluster IP traffic jumps to: SVC, or SVL under internalTrafficPolicy Local. */
  readonly internalChain: string;
  /** The chain the EXT chain ends in: SVC, or SVL under externalTrafficPolicy Local. */
  readonly externalPolicyChain: string;
  /** REJECT (no endpoints) or DROP (no local ones) for cluster IP traffic that has none; '' when it has. */
  readonly internalTarget: string;
  readonly internalComment: string;
  /** The same for external traffic. */
  readonly externalTarget: string;
  readonly externalComment: string;
  readonly noLocalInternal: boolean;
  readonly noLocalExternal: boolean;
  readonly usesExternalChain: boolean;
  readonly usesFirewallChain: boolean;
  readonly usesClusterChain: boolean;
  readonly usesLocalChain: boolean;
  /** Where load balancer VIP traffic jumps: the FW chain when source ranges apply, else EXT. */
  readonly lbChain: string;
  /** Upstream's large cluster mode: no comments on per-endpoint rules. */
  readonly large: boolean;
  /** An endpoint's chain name, hashed once per render (each is used 3–4 times). */
  epChain(ep: EndpointInfo): string;
  /** `-d <dest> -p <proto> -m <proto> --dport <port>`, in iptables-save's canonical order. */
  match(dest: string): string[];
}

function planServiceRules(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  chains: ServiceChainNames,
  ctx: WriteServiceContext,
): ServiceRulePlan {
  const name = sp.key;
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const hasEndpoints = cat.hasAnyEndpoints;
  const epChains = new Map<EndpointInfo, string>();
  const epChain = (ep: EndpointInfo) => {
    let c = epChains.get(ep);
    if (c === undefined) {
      c = endpointChainName(name, sp.protocol, ep.endpoint);
      epChains.set(ep, c);
    }
    return c;
  };
  const noLocal = cat.localEndpoints.length === 0;
  const hasInternal = hasEndpoints && !(sp.internalPolicyLocal && noLocal);
  const hasExternal = hasEndpoints && !(sp.externalPolicyLocal && noLocal);
  // What traffic without an endpoint meets: REJECT when the Service has none at all, DROP when
  // its policy asks for local ones and this node has none.
  const blocked = (has: boolean) =>
    !hasEndpoints
      ? { target: 'REJECT', comment: `${name} has no endpoints`, noLocal: false }
      : !has
        ? { target: 'DROP', comment: `${name} has no local endpoints`, noLocal: true }
        : { target: '', comment: '', noLocal: false };
  const internal = blocked(hasInternal);
  const external = blocked(hasExternal);
  const usesFirewallChain =
    hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  return {
    sp,
    chains,
    name,
    proto,
    hasEndpoints,
    hasInternal,
    hasExternal,
    internalChain: sp.internalPolicyLocal ? chains.local : chains.cluster,
    externalPolicyChain: sp.externalPolicyLocal ? chains.local : chains.cluster,
    internalTarget: internal.target,
    internalComment: internal.comment,
    externalTarget: external.target,
    externalComment: external.comment,
    noLocalInternal: internal.noLocal,
    noLocalExternal: external.noLocal,
    // The EXT chain exists whenever there are endpoints at all: its short-circuit rules for
    // pod and host traffic are needed even when no endpoint is usable externally.
    usesExternalChain: hasEndpoints && externallyAccessible(sp),
    usesFirewallChain,
    usesClusterChain: cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp),
    usesLocalChain: cat.localEndpoints.length > 0 && usesLocalEndpoints(sp),
    lbChain: usesFirewallChain ? chains.firewall : chains.external,
    large: ctx.largeClusterMode ?? false,
    epChain,
    // iptables-save's canonical order (address, protocol, match, port), so payloads compare
    // cleanly with what the kernel reports and parse with @nodeagent/netfilter.
    match: (dest) => ['-d', dest, '-p', proto, '-m', proto, '--dport', port],
  };
}

/** The cluster IP: to the internal chain, or REJECT/DROP in the filter table when there is nowhere to go. */
function writeClusterIPRules(plan: ServiceRulePlan, { nat, filter }: WriteServiceContext): void {
  const { sp, name, match } = plan;
  if (plan.hasInternal) {
    nat.rule(
      ...commentedRule(KUBE_SERVICES, `${name} cluster IP`),
      ...match(sp.clusterIP),
      '-j',
      plan.internalChain,
    );
  } else {
    filter.rule(
      ...commentedRule(KUBE_SERVICES, plan.internalComment),
      ...match(sp.clusterIP),
      '-j',
      plan.internalTarget,
    );
  }
}

/** External IPs and load balancer VIPs: their jumps, the firewall's drop, and REJECT/DROP without endpoints. */
function writeExternalAddressRules(plan: ServiceRulePlan, { nat, filter }: WriteServiceContext): void {
  const { sp, name, match, chains, hasEndpoints, hasExternal } = plan;
  for (const ip of sp.externalIPs) {
    if (hasEndpoints) {
      nat.rule(...commentedRule(KUBE_SERVICES, `${name} external IP`), ...match(ip), '-j', chains.external);
    }
    if (!hasExternal) {
      filter.rule(
        ...commentedRule(KUBE_EXTERNAL_SERVICES, plan.externalComment),
        ...match(ip),
        '-j',
        plan.externalTarget,
      );
    }
  }
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints) {
      nat.rule(...commentedRule(KUBE_SERVICES, `${name} loadbalancer IP`), ...match(ip), '-j', plan.lbChain);
    }
    if (plan.usesFirewallChain) {
      // Reached only by packets the FW chain did not accept (and so did not DNAT).
      filter.rule(
        ...commentedRule(KUBE_PROXY_FIREWALL, `${name} traffic not accepted by ${chains.firewall}`),
        ...match(ip),
        '-j',
        'DROP',
      );
    }
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerVIPs) {
      filter.rule(
        ...commentedRule(KUBE_EXTERNAL_SERVICES, plan.externalComment),
        ...match(ip),
        '-j',
        plan.externalTarget,
      );
    }
  }
}

/** The node port (with the counted localhost jump first) and the health check node port. */
function writeNodePortRules(plan: ServiceRulePlan, ctx: WriteServiceContext): void {
  const { nat, filter } = ctx;
  const { sp, name, proto, chains, hasEndpoints } = plan;
  if (sp.nodePort !== 0) {
    const np = String(sp.nodePort);
    if (hasEndpoints && ctx.localhostNodePortsCounted) {
      // The same jump for 127.0.0.0/8 first, counted in localhost_nps_accepted_pkts (a metric
      // telling operators whether anything uses localhost NodePorts), as upstream.
      nat.rule(
        '-A',
        KUBE_NODEPORTS,
        '-d',
        '127.0.0.0/8',
        '-p',
        proto,
        '-m',
        'comment',
        '--comment',
        name,
        '-m',
        proto,
        '--dport',
        np,
        '-m',
        'nfacct',
        '--nfacct-name',
        LOCALHOST_NODEPORTS_ACCEPTED_COUNTER,
        '-j',
        chains.external,
      );
    }
    if (hasEndpoints) {
      nat.rule(
        ...commentedRule(KUBE_NODEPORTS, name),
        '-p',
        proto,
        '-m',
        proto,
        '--dport',
        np,
        '-j',
        chains.external,
      );
    }
    if (!plan.hasExternal) {
      filter.rule(
        ...commentedRule(KUBE_EXTERNAL_SERVICES, plan.externalComment),
        '-m',
        'addrtype',
        '--dst-type',
        'LOCAL',
        '-p',
        proto,
        '-m',
        proto,
        '--dport',
        np,
        '-j',
        plan.externalTarget,
      );
    }
  }
  // Health check node port: always accepted, whatever the endpoints.
  if (sp.healthCheckNodePort !== 0) {
    filter.rule(
      ...commentedRule(KUBE_NODEPORTS, `${name} health check node port`),
      '-p',
      'tcp',
      '-m',
      'tcp',
      '--dport',
      String(sp.healthCheckNodePort),
      '-j',
      'ACCEPT',
    );
  }
}

/** The internal chain's masquerade rule: every source with masqueradeAll, else off-cluster ones. */
function writeInternalMasquerade(
  plan: ServiceRulePlan,
  { svcNat, detector, masqueradeAll }: WriteServiceContext,
): void {
  if (!plan.hasInternal) return;
  const { internalChain } = plan;
  const args = ['-m', 'comment', '--comment', `${plan.name} cluster IP`, ...plan.match(plan.sp.clusterIP)];
  if (masqueradeAll) svcNat.rule('-A', internalChain, ...args, '-j', KUBE_MARK_MASQ);
  else if (detector.implemented) {
    // Off-cluster sources reaching a cluster IP (via a static route to a node) may be
    // bounced to another node: masquerade so replies come back through us.
    svcNat.rule('-A', internalChain, ...args, ...detector.ifNotLocal, '-j', KUBE_MARK_MASQ);
  }
}

/** The EXT chain: masquerade (all, or only LOCAL sources under Local policy), then the policy's chain. */
function writeExternalChain(plan: ServiceRulePlan, { svcNat, detector }: WriteServiceContext): void {
  const { sp, name, chains } = plan;
  svcNat.chain(chains.external);
  if (!sp.externalPolicyLocal) {
    svcNat.rule(
      ...commentedRule(chains.external, `masquerade traffic for ${name} external destinations`),
      '-j',
      KUBE_MARK_MASQ,
    );
  } else {
    if (detector.implemented) {
      // Pod → external address behaves as if it left the node and came back: no policy applies.
      svcNat.rule(
        ...commentedRule(chains.external, `pod traffic for ${name} external destinations`),
        ...detector.ifLocal,
        '-j',
        chains.cluster,
      );
    }
    svcNat.rule(
      ...commentedRule(chains.external, `masquerade LOCAL traffic for ${name} external destinations`),
      '-m',
      'addrtype',
      '--src-type',
      'LOCAL',
      '-j',
      KUBE_MARK_MASQ,
    );
    svcNat.rule(
      ...commentedRule(chains.external, `route LOCAL traffic for ${name} external destinations`),
      '-m',
      'addrtype',
      '--src-type',
      'LOCAL',
      '-j',
      chains.cluster,
    );
  }
  if (plan.hasExternal) svcNat.rule('-A', chains.external, '-j', plan.externalPolicyChain);
}

/** The FW chain: loadBalancerSourceRanges (and the node's own VIPs) to EXT; the rest falls off. */
function writeFirewallChain(plan: ServiceRulePlan, { svcNat, options }: WriteServiceContext): void {
  const { sp, name, chains } = plan;
  svcNat.chain(chains.firewall);
  const args = ['-A', chains.firewall, '-m', 'comment', '--comment', `${name} loadbalancer IP`];
  let allowFromNode = false;
  for (const cidr of sp.loadBalancerSourceRanges) {
    svcNat.rule(...args, '-s', cidr, '-j', chains.external);
    if (options.nodeIP && cidrContains(cidr, options.nodeIP)) allowFromNode = true;
  }
  // A VIP configured locally makes node→VIP traffic loop back with the VIP as source.
  if (allowFromNode)
    for (const ip of sp.loadBalancerVIPs) svcNat.rule(...args, '-s', ip, '-j', chains.external);
  // A target-less rule, as upstream writes: what falls off the end was not DNATed, so the
  // filter table's KUBE-PROXY-FIREWALL drops it; the comment says so in iptables-save.
  svcNat.rule(
    ...commentedRule(chains.firewall, `other traffic to ${name} will be dropped by ${KUBE_PROXY_FIREWALL}`),
  );
}

/** The SVC and SVL chains (load-balancing to endpoints) and each reachable endpoint's SEP chain. */
function writeEndpointChains(plan: ServiceRulePlan, cat: CategorizedEndpoints, svcNat: RuleSink): void {
  const { sp, name, proto, chains, epChain, large } = plan;
  if (plan.usesClusterChain) {
    svcNat.chain(chains.cluster);
    writeServiceToEndpointRules(svcNat, sp, chains.cluster, cat.clusterEndpoints, epChain, large);
  }
  if (plan.usesLocalChain) {
    svcNat.chain(chains.local);
    writeServiceToEndpointRules(svcNat, sp, chains.local, cat.localEndpoints, epChain, large);
  }
  for (const ep of cat.allReachableEndpoints) {
    const chain = epChain(ep);
    svcNat.chain(chain);
    const base = endpointRuleHead(chain, name, large);
    // Hairpin: a backend reaching itself through the service must be masqueraded.
    svcNat.rule(...base, '-s', ep.ip, '-j', KUBE_MARK_MASQ);
    const affinity = sp.stickyMaxAgeSeconds > 0 ? ['-m', 'recent', '--name', chain, '--set'] : [];
    svcNat.rule(
      ...base,
      ...affinity,
      '-m',
      proto,
      '-p',
      proto,
      '-j',
      'DNAT',
      '--to-destination',
      ep.endpoint,
    );
  }
}

/**
 * `-A <chain>` plus the comment, except in large cluster mode: upstream's
 * appendServiceCommentLocked, used only for the per-endpoint rules (the bulk of the payload).
 */
function endpointRuleHead(chain: string, comment: string, largeClusterMode: boolean): string[] {
  return largeClusterMode ? ['-A', chain] : commentedRule(chain, comment);
}

function writeServiceToEndpointRules(
  out: RuleSink,
  sp: ServicePort,
  chain: string,
  endpoints: readonly EndpointInfo[],
  epChain: (ep: EndpointInfo) => string,
  largeClusterMode: boolean,
): void {
  if (sp.stickyMaxAgeSeconds > 0) {
    for (const ep of endpoints) {
      const c = epChain(ep);
      out.rule(
        ...endpointRuleHead(chain, `${sp.key} -> ${ep.endpoint}`, largeClusterMode),
        '-m',
        'recent',
        '--name',
        c,
        '--rcheck',
        '--seconds',
        String(sp.stickyMaxAgeSeconds),
        '--reap',
        '-j',
        c,
      );
    }
  }
  endpoints.forEach((ep, i) => {
    const stat =
      i < endpoints.length - 1
        ? ['-m', 'statistic', '--mode', 'random', '--probability', probability(endpoints.length - i)]
        : [];
    // The comment only where it is written: large-cluster mode drops it (its text is 250k
    // concatenations, and an address-and-port rendering each, at 5k Services x 50).
    out.rule(
      ...(largeClusterMode ? ['-A', chain] : commentedRule(chain, `${sp.key} -> ${ep.endpoint}`)),
      ...stat,
      '-j',
      epChain(ep),
    );
  });
}
