import { type CategorizedEndpoints, categorizeEndpoints } from '../model/categorize-endpoints';
import { cidrContains } from '../model/cidr';
import type { EndpointInfo } from '../model/endpoint';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import {
  externallyAccessible,
  type ServicePort,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../model/service-port';
import {
  endpointChainName,
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  serviceChainNames,
} from './chain-names';
import type { IptablesRuleset, JumpRule } from './iptables-ruleset';
import { type LocalDetector, NO_LOCAL_DETECTOR } from './local-detector';

export interface IptablesBackendOptions {
  /** Bit of the packet mark meaning "masquerade me" (iptables.masqueradeBit, default 14). */
  masqueradeBit?: number;
  /** SNAT all traffic to cluster IPs (iptables.masqueradeAll). */
  masqueradeAll?: boolean;
  localDetector?: LocalDetector;
  /** Allow NodePorts on 127.0.0.0/8 (iptables.localhostNodePorts; IPv4 only). */
  localhostNodePorts?: boolean;
  /** Node IPs NodePorts are served on; empty/undefined means every local address. */
  nodePortIPs?: readonly string[];
  /** The node's own IP: lets the node reach LB VIPs whose source ranges include it. */
  nodeIP?: string;
  /** With nf_conntrack_tcp_be_liberal set, INVALID packets need not be dropped. */
  conntrackTCPLiberal?: boolean;
  /** Use MASQUERADE --random-fully (when the iptables binary supports it). */
  randomFully?: boolean;
}

export interface BuildIptablesInput {
  snapshot: ProxySnapshot;
  /**
   * Partial sync: write per-service chains only for these "ns/name" Services (top-level chains
   * and the filter table are always complete). Undefined means a full sync.
   */
  onlyServices?: ReadonlySet<string>;
  /** NAT chains that exist in the kernel now; our stale per-service ones are deleted. */
  existingNatChains?: Iterable<string>;
}

export interface IptablesBuildResult {
  readonly ruleset: IptablesRuleset;
  /** Every per-service NAT chain the complete ruleset has (including ones skipped by a partial sync). */
  readonly activeNatChains: ReadonlySet<string>;
  /** Rule counts of the complete ruleset (for kubeproxy_sync_proxy_rules_iptables_total). */
  readonly ruleCounts: { readonly filter: number; readonly nat: number };
  /** Service ports with internal (iTP) / external (eTP) Local policy and no local endpoints. */
  readonly noLocalEndpoints: { readonly internal: number; readonly external: number };
}

/** Built-in chain jumps into our chains (upstream's iptablesJumpChains), in insertion order. */
export const IPTABLES_JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', true),
  jump('filter', 'FORWARD', KUBE_EXTERNAL_SERVICES, 'kubernetes externally-visible service portals', true),
  jump('filter', 'INPUT', KUBE_NODEPORTS, 'kubernetes health check service ports', false),
  jump('filter', 'FORWARD', KUBE_SERVICES, 'kubernetes service portals', true),
  jump('filter', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', true),
  jump('filter', 'FORWARD', KUBE_FORWARD, 'kubernetes forwarding rules', false),
  jump('filter', 'INPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
  jump('filter', 'OUTPUT', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
  jump('filter', 'FORWARD', KUBE_PROXY_FIREWALL, 'kubernetes load balancer firewall', true),
  jump('nat', 'OUTPUT', KUBE_SERVICES, 'kubernetes service portals', false),
  jump('nat', 'PREROUTING', KUBE_SERVICES, 'kubernetes service portals', false),
  jump('nat', 'POSTROUTING', KUBE_POSTROUTING, 'kubernetes postrouting rules', false),
];

function jump(
  table: 'filter' | 'nat',
  chain: string,
  target: string,
  comment: string,
  newOnly: boolean,
): JumpRule {
  return {
    table,
    chain,
    args: [
      '-m',
      'comment',
      '--comment',
      comment,
      ...(newOnly ? ['-m', 'conntrack', '--ctstate', 'NEW'] : []),
      '-j',
      target,
    ],
  };
}

/** Upstream prints 1/n with ten decimals. */
function probability(n: number): string {
  return (1 / n).toFixed(10);
}

class Lines {
  readonly chains: string[] = [];
  readonly rules: string[][] = [];
  count = 0;
  constructor(private readonly keep: boolean) {}
  chain(name: string): void {
    if (this.keep) this.chains.push(name);
  }
  rule(...args: string[]): void {
    this.count++;
    if (this.keep) this.rules.push(args);
  }
}

/**
 * Turns a snapshot into the iptables ruleset upstream kube-proxy's iptables mode would
 * program: a pure function, so it can be golden-tested and rendered without a kernel.
 */
export function buildIptablesRuleset(
  input: BuildIptablesInput,
  options: IptablesBackendOptions = {},
): IptablesBuildResult {
  const { snapshot } = input;
  const isIPv6 = snapshot.family === 'IPv6';
  const markBit = options.masqueradeBit ?? 14;
  // Go's %#08x, as upstream formats the mark.
  const mark = `0x${(2 ** markBit).toString(16).padStart(8, '0')}`;
  const detector = options.localDetector ?? NO_LOCAL_DETECTOR;
  const masqueradeAll = options.masqueradeAll ?? false;

  const filter = new Lines(true);
  const nat = new Lines(true);
  // Per-service chains of unchanged Services in a partial sync are computed (for counts) but not written.
  const skippedNat = new Lines(false);
  const activeNatChains = new Set<string>();
  let noLocalInternal = 0;
  let noLocalExternal = 0;

  for (const c of [
    KUBE_SERVICES,
    KUBE_EXTERNAL_SERVICES,
    KUBE_FORWARD,
    KUBE_NODEPORTS,
    KUBE_PROXY_FIREWALL,
  ]) {
    filter.chain(c);
  }
  for (const c of [KUBE_SERVICES, KUBE_NODEPORTS, KUBE_POSTROUTING, KUBE_MARK_MASQ]) nat.chain(c);

  nat.rule('-A', KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN');
  // Clear the mark so a packet re-traversing the stack is not masqueraded twice.
  nat.rule('-A', KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark);
  nat.rule(
    '-A',
    KUBE_POSTROUTING,
    '-m',
    'comment',
    '--comment',
    'kubernetes service traffic requiring SNAT',
    '-j',
    'MASQUERADE',
    ...(options.randomFully === false ? [] : ['--random-fully']),
  );
  nat.rule('-A', KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark);

  const keys = [...snapshot.services.keys()].sort();
  for (const key of keys) {
    const sp = snapshot.services.get(key)!;
    const eps = snapshot.endpoints.get(key) ?? [];
    const cat = categorizeEndpoints(eps, sp, snapshot.nodeName, snapshot.nodeLabels);
    const chains = serviceChainNames(key, sp.protocol);
    const writeChains = !input.onlyServices || input.onlyServices.has(sp.service);
    const svcNat = writeChains ? nat : skippedNat;
    const r = writeService(sp, cat, chains, {
      filter,
      nat,
      svcNat,
      activeNatChains,
      detector,
      masqueradeAll,
      options,
    });
    if (r.noLocalInternal) noLocalInternal++;
    if (r.noLocalExternal) noLocalExternal++;
  }

  // NodePorts come last in KUBE-SERVICES: they match by port alone.
  const nodePortComment = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
  if (!options.nodePortIPs || options.nodePortIPs.length === 0) {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    // Localhost NodePorts never work for IPv6, and for IPv4 only with route_localnet.
    if (isIPv6) dest.push('!', '-d', '::1/128');
    else if (options.localhostNodePorts === false) dest.push('!', '-d', '127.0.0.0/8');
    nat.rule(
      '-A',
      KUBE_SERVICES,
      '-m',
      'comment',
      '--comment',
      nodePortComment,
      ...dest,
      '-j',
      KUBE_NODEPORTS,
    );
  } else {
    for (const ip of options.nodePortIPs) {
      const loopback = isIPv6 ? ip === '::1' : ip.startsWith('127.');
      if (loopback && (isIPv6 || options.localhostNodePorts === false)) continue;
      nat.rule(
        '-A',
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        nodePortComment,
        '-d',
        ip,
        '-j',
        KUBE_NODEPORTS,
      );
    }
  }

  // INVALID packets can reset connections unless conntrack is liberal (kubernetes#74839).
  if (!options.conntrackTCPLiberal)
    filter.rule('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', '-j', 'DROP');
  filter.rule(
    '-A',
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    'kubernetes forwarding rules',
    '-m',
    'mark',
    '--mark',
    `${mark}/${mark}`,
    '-j',
    'ACCEPT',
  );
  filter.rule(
    '-A',
    KUBE_FORWARD,
    '-m',
    'comment',
    '--comment',
    'kubernetes forwarding conntrack rule',
    '-m',
    'conntrack',
    '--ctstate',
    'RELATED,ESTABLISHED',
    '-j',
    'ACCEPT',
  );

  const deleteChains: string[] = [];
  for (const chain of input.existingNatChains ?? []) {
    if (isServiceChainName(chain) && !activeNatChains.has(chain)) deleteChains.push(chain);
  }
  deleteChains.sort();

  return {
    ruleset: {
      filter: { chains: filter.chains, rules: filter.rules, deleteChains: [] },
      nat: { chains: nat.chains, rules: nat.rules, deleteChains },
    },
    activeNatChains,
    ruleCounts: { filter: filter.count, nat: nat.count + skippedNat.count },
    noLocalEndpoints: { internal: noLocalInternal, external: noLocalExternal },
  };
}

interface WriteContext {
  filter: Lines;
  nat: Lines;
  svcNat: Lines;
  activeNatChains: Set<string>;
  detector: LocalDetector;
  masqueradeAll: boolean;
  options: IptablesBackendOptions;
}

function writeService(
  sp: ServicePort,
  cat: CategorizedEndpoints,
  chains: ReturnType<typeof serviceChainNames>,
  ctx: WriteContext,
): { noLocalInternal: boolean; noLocalExternal: boolean } {
  const { filter, nat, svcNat, activeNatChains, detector } = ctx;
  const name = sp.key;
  const proto = sp.protocol.toLowerCase();
  const port = String(sp.port);
  const hasEndpoints = cat.hasAnyEndpoints;
  const epChain = (ep: EndpointInfo) => endpointChainName(name, sp.protocol, ep.endpoint);

  for (const ep of cat.allReachableEndpoints) activeNatChains.add(epChain(ep));
  const usesClusterChain = cat.clusterEndpoints.length > 0 && usesClusterEndpoints(sp);
  if (usesClusterChain) activeNatChains.add(chains.cluster);
  const usesLocalChain = cat.localEndpoints.length > 0 && usesLocalEndpoints(sp);
  if (usesLocalChain) activeNatChains.add(chains.local);

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
  if (usesExternalChain) activeNatChains.add(chains.external);
  const usesFirewallChain =
    hasEndpoints && sp.loadBalancerVIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  if (usesFirewallChain) activeNatChains.add(chains.firewall);
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
      '-A',
      KUBE_SERVICES,
      '-m',
      'comment',
      '--comment',
      `${name} cluster IP`,
      ...match(sp.clusterIP),
      '-j',
      internalChain,
    );
  } else {
    filter.rule(
      '-A',
      KUBE_SERVICES,
      '-m',
      'comment',
      '--comment',
      internalComment,
      ...match(sp.clusterIP),
      '-j',
      internalTarget,
    );
  }
  // External IPs.
  for (const ip of sp.externalIPs) {
    if (hasEndpoints) {
      nat.rule(
        '-A',
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        `${name} external IP`,
        ...match(ip),
        '-j',
        chains.external,
      );
    }
    if (!hasExternal) {
      filter.rule(
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalComment,
        ...match(ip),
        '-j',
        externalTarget,
      );
    }
  }
  // Load balancer VIPs.
  for (const ip of sp.loadBalancerVIPs) {
    if (hasEndpoints) {
      nat.rule(
        '-A',
        KUBE_SERVICES,
        '-m',
        'comment',
        '--comment',
        `${name} loadbalancer IP`,
        ...match(ip),
        '-j',
        lbChain,
      );
    }
    if (usesFirewallChain) {
      // Reached only by packets the FW chain did not accept (and so did not DNAT).
      filter.rule(
        '-A',
        KUBE_PROXY_FIREWALL,
        '-m',
        'comment',
        '--comment',
        `${name} traffic not accepted by ${chains.firewall}`,
        ...match(ip),
        '-j',
        'DROP',
      );
    }
  }
  if (!hasExternal) {
    for (const ip of sp.loadBalancerVIPs) {
      filter.rule(
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalComment,
        ...match(ip),
        '-j',
        externalTarget,
      );
    }
  }
  // Node port.
  if (sp.nodePort !== 0) {
    const np = String(sp.nodePort);
    if (hasEndpoints) {
      nat.rule(
        '-A',
        KUBE_NODEPORTS,
        '-m',
        'comment',
        '--comment',
        name,
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
        '-A',
        KUBE_EXTERNAL_SERVICES,
        '-m',
        'comment',
        '--comment',
        externalComment,
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
      '-A',
      KUBE_NODEPORTS,
      '-m',
      'comment',
      '--comment',
      `${name} health check node port`,
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
        '-A',
        chains.external,
        '-m',
        'comment',
        '--comment',
        `masquerade traffic for ${name} external destinations`,
        '-j',
        KUBE_MARK_MASQ,
      );
    } else {
      if (detector.implemented) {
        // Pod → external address behaves as if it left the node and came back: no policy applies.
        svcNat.rule(
          '-A',
          chains.external,
          '-m',
          'comment',
          '--comment',
          `pod traffic for ${name} external destinations`,
          ...detector.ifLocal,
          '-j',
          chains.cluster,
        );
      }
      svcNat.rule(
        '-A',
        chains.external,
        '-m',
        'comment',
        '--comment',
        `masquerade LOCAL traffic for ${name} external destinations`,
        '-m',
        'addrtype',
        '--src-type',
        'LOCAL',
        '-j',
        KUBE_MARK_MASQ,
      );
      svcNat.rule(
        '-A',
        chains.external,
        '-m',
        'comment',
        '--comment',
        `route LOCAL traffic for ${name} external destinations`,
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
  }

  if (usesClusterChain) {
    svcNat.chain(chains.cluster);
    writeServiceToEndpointRules(svcNat, sp, chains.cluster, cat.clusterEndpoints, epChain);
  }
  if (usesLocalChain) {
    svcNat.chain(chains.local);
    writeServiceToEndpointRules(svcNat, sp, chains.local, cat.localEndpoints, epChain);
  }

  for (const ep of cat.allReachableEndpoints) {
    const chain = epChain(ep);
    svcNat.chain(chain);
    const base = ['-A', chain, '-m', 'comment', '--comment', name];
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

function writeServiceToEndpointRules(
  out: Lines,
  sp: ServicePort,
  chain: string,
  endpoints: readonly EndpointInfo[],
  epChain: (ep: EndpointInfo) => string,
): void {
  if (sp.stickyMaxAgeSeconds > 0) {
    for (const ep of endpoints) {
      const c = epChain(ep);
      out.rule(
        '-A',
        chain,
        '-m',
        'comment',
        '--comment',
        `${sp.key} -> ${ep.endpoint}`,
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
      '-A',
      chain,
      '-m',
      'comment',
      '--comment',
      `${sp.key} -> ${ep.endpoint}`,
      ...stat,
      '-j',
      epChain(ep),
    );
  });
}
