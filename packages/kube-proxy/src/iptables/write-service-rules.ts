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

/** Upstream prints 1/n with ten decimals. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
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
  const { filter, nat, svcNat, detector } = ctx;
  const name = sp.key;
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const hasEndpoints = cat.hasAnyEndpoints;
  const large = ctx.largeClusterMode ?? false;
  // Each endpoint's chain name is used 3–4 times: hash it once per render.
  const epChains = new Map<EndpointInfo, string>();
  const epChain = (ep: EndpointInfo) => {
    let c = epChains.get(ep);
    if (c === undefined) {
      c = endpointChainName(name, sp.protocol, ep.endpoint);
      epChains.set(ep, c);
    }
    return c;
  };

  const usesClusterChain = cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
  const usesLocalChain = cat.localEndpoints.length > 0 && usesLocalEndpoints(sp);

  let internalChain = chains.cluster;
  let hasInternal = hasEndpoints;
  if (sp.internalPolicyLocal) {
    internalChain = chains.local;
    if (cat.localEndpoints.length === 0) hasInternal = false;
  }
  let externalPolicyChain = chains.cluster;
  let hasExternal = hasEndpoints;
  if (sp.externalPolicyLocal) {
    externalPolicyChain = chains.local;
    if (cat.localEndpoints.length === 0) hasExternal = false;
  }
  // The EXT chain exists whenever there are endpoints at all: its short-circuit rules for
  // pod and host traffic are needed even when no endpoint is usable externally.
  const usesExternalChain = hasEndpoints && externallyAccessible(sp);
  const usesFirewallChain =
    hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  const lbChain = usesFirewallChain ? chains.firewall : chains.external;

  let internalTarget = '';
  let internalComment = '';
  let externalTarget = '';
  let externalComment = '';
  let noLocalInternal = false;
  let noLocalExternal = false;
  if (!hasEndpoints) {
    internalTarget = externalTarget = 'REJECT';
    internalComment = externalComment = `${name} has no endpoints`;
  } else {
    if (!hasInternal) {
      internalTarget = 'DROP';
      internalComment = `${name} has no local endpoints`;
      noLocalInternal = true;
    }
    if (!hasExternal) {
      externalTarget = 'DROP';
      externalComment = `${name} has no local endpoints`;
      noLocalExternal = true;
    }
  }
  // iptables-save's canonical order (address, protocol, match, port), so payloads compare
  // cleanly with what the kernel reports and parse with @nodeagent/netfilter.
  const match = (dest: string, dport = port) => ['-d', dest, '-p', proto, '-m', proto, '--dport', dport];

  // Cluster IP.
  if (hasInternal) {
    nat.rule(
      ...commentedRule(KUBE_SERVICES, `${name} cluster IP`),
      ...match(sp.clusterIP),
      '-j',
      internalChain,
    );
  } else {
    filter.rule(
      ...commentedRule(KUBE_SERVICES, internalComment),
      ...match(sp.clusterIP),
      '-j',
      internalTarget,
    );
  }
  // External IPs.
  for (const ip of sp.externalIPs) {
    if (hasEndpoints) {
      nat.rule(...commentedRule(KUBE_SERVICES, `${name} external IP`), ...match(ip), '-j', chains.external);
    }
    if (!hasExternal) {
      filter.rule(
        ...commentedRule(KUBE_EXTERNAL_SERVICES, externalComment),
        ...match(ip),
        '-j',
        externalTarget,
      );
    }
  }
  // Load balancer VIPs.
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints) {
      nat.rule(...commentedRule(KUBE_SERVICES, `${name} loadbalancer IP`), ...match(ip), '-j', lbChain);
    }
    if (usesFirewallChain) {
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
        ...commentedRule(KUBE_EXTERNAL_SERVICES, externalComment),
        ...match(ip),
        '-j',
        externalTarget,
      );
    }
  }
  // Node port.
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
    if (!hasExternal) {
      filter.rule(
        ...commentedRule(KUBE_EXTERNAL_SERVICES, externalComment),
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
        externalTarget,
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

  // Per-service chains from here on (skipped for unchanged Services in a partial sync).
  if (hasInternal) {
    const args = ['-m', 'comment', '--comment', `${name} cluster IP`, ...match(sp.clusterIP)];
    if (ctx.masqueradeAll) svcNat.rule('-A', internalChain, ...args, '-j', KUBE_MARK_MASQ);
    else if (detector.implemented) {
      // Off-cluster sources reaching a cluster IP (via a static route to a node) may be
      // bounced to another node: masquerade so replies come back through us.
      svcNat.rule('-A', internalChain, ...args, ...detector.ifNotLocal, '-j', KUBE_MARK_MASQ);
    }
  }

  if (usesExternalChain) {
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
    if (hasExternal) svcNat.rule('-A', chains.external, '-j', externalPolicyChain);
  }

  if (usesFirewallChain) {
    svcNat.chain(chains.firewall);
    const args = ['-A', chains.firewall, '-m', 'comment', '--comment', `${name} loadbalancer IP`];
    let allowFromNode = false;
    for (const cidr of sp.loadBalancerSourceRanges) {
      svcNat.rule(...args, '-s', cidr, '-j', chains.external);
      if (ctx.options.nodeIP && cidrContains(cidr, ctx.options.nodeIP)) allowFromNode = true;
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

  if (usesClusterChain) {
    svcNat.chain(chains.cluster);
    writeServiceToEndpointRules(svcNat, sp, chains.cluster, cat.clusterEndpoints, epChain, large);
  }
  if (usesLocalChain) {
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
  return { noLocalInternal, noLocalExternal };
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
    out.rule(
      ...endpointRuleHead(chain, `${sp.key} -> ${ep.endpoint}`, largeClusterMode),
      ...stat,
      '-j',
      epChain(ep),
    );
  });
}
