import { categorizeEndpoints } from '../model/categorize-endpoints';
import type { ProxySnapshot } from '../model/proxy-snapshot';
import type { IptablesRuleset, JumpRule } from '../shared/iptables-ruleset';
import { NO_LOCAL_DETECTOR } from '../shared/local-detector';
import {
  isServiceChainName,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
  serviceChainNames,
} from './chain-names';
import type { IptablesBackendOptions } from './iptables-backend-options';
import { isLargeClusterMode } from './large-cluster-mode';
import {
  countsLocalhostNodePorts,
  filterTopChains,
  NAT_TOP_CHAINS,
  writeForwardRules,
  writeLocalnetFirewall,
  writeMasqueradeRules,
  writeNodePortsJumps,
} from './top-level-rules';
import { writeServiceRules } from './write-service-rules';

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

/**
 * Built-in chain jumps into our chains (upstream's iptablesJumpChains), in the order upstream
 * ensures them; each missing one is inserted at the top, so the kernel lists them reversed.
 */
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

/**
 * Our jumps as versions before upstream's match order wrote them (`-m comment` before
 * `-m conntrack --ctstate NEW`): a full sync replaces them and a cleanup removes them, so an
 * upgraded node neither keeps duplicate jumps nor fails to delete chains they still reference.
 */
export const LEGACY_JUMP_RULES: readonly JumpRule[] = IPTABLES_JUMP_RULES.filter(
  (j) => j.args[0] === '-m' && j.args[1] === 'conntrack',
).map((j) => ({ ...j, args: [...j.args.slice(4, 8), ...j.args.slice(0, 4), ...j.args.slice(8)] }));

/**
 * The jumps to kubelet's KUBE-FIREWALL (upstream's iptablesKubeletJumpChains): ensured after
 * IPTABLES_JUMP_RULES on every full sync whatever the settings. As upstream, `--cleanup` leaves
 * them and the chain in place: route_localnet stays 1 after a cleanup, and KUBE-FIREWALL is what
 * keeps other hosts from reaching the node's 127.0.0.1 listeners (CVE-2020-8558).
 */
export const KUBELET_JUMP_RULES: readonly JumpRule[] = [
  { table: 'filter', chain: 'INPUT', args: ['-j', KUBE_FIREWALL] },
  { table: 'filter', chain: 'OUTPUT', args: ['-j', KUBE_FIREWALL] },
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
    // Upstream's extra arguments come before the comment; the kernel keeps match order.
    args: [
      ...(newOnly ? ['-m', 'conntrack', '--ctstate', 'NEW'] : []),
      '-m',
      'comment',
      '--comment',
      comment,
      '-j',
      target,
    ],
  };
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
  const detector = options.localDetector ?? NO_LOCAL_DETECTOR;
  const masqueradeAll = options.masqueradeAll ?? false;
  const largeClusterMode = isLargeClusterMode(snapshot, options.largeClusterEndpointsThreshold);

  const filter = new Lines(true);
  const nat = new Lines(true);
  // Per-service chains of unchanged Services in a partial sync are computed (for counts) but not written.
  const skippedNat = new Lines(false);
  const activeNatChains = new Set<string>();
  let noLocalInternal = 0;
  let noLocalExternal = 0;

  const isIPv6 = snapshot.family === 'IPv6';
  for (const c of filterTopChains(options, isIPv6)) filter.chain(c);
  for (const c of NAT_TOP_CHAINS) nat.chain(c);
  writeMasqueradeRules(nat, options);
  writeLocalnetFirewall(filter, options, isIPv6);

  const keys = [...snapshot.services.keys()].sort();
  for (const key of keys) {
    const sp = snapshot.services.get(key)!;
    const eps = snapshot.endpoints.get(key) ?? [];
    const cat = categorizeEndpoints(eps, sp, snapshot.nodeName, snapshot.nodeLabels);
    const chains = serviceChainNames(key, sp.protocol);
    const writeChains = !input.onlyServices || input.onlyServices.has(sp.service);
    const svcNat = writeChains ? nat : skippedNat;
    const r = writeServiceRules(sp, cat, chains, {
      filter,
      nat,
      svcNat,
      activeNatChains,
      detector,
      masqueradeAll,
      options,
      largeClusterMode,
      localhostNodePortsCounted: countsLocalhostNodePorts(options, isIPv6),
    });
    if (r.noLocalInternal) noLocalInternal++;
    if (r.noLocalExternal) noLocalExternal++;
  }

  writeNodePortsJumps(nat, options, isIPv6);
  writeForwardRules(filter, options);

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
