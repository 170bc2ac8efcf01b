import type { IPFamily } from '../model/ip-family';
import { forwardAcceptRules } from '../shared/forward-accept-rules';
import type { IptablesRuleset, JumpRule } from '../shared/iptables-ruleset';
import type { LocalDetector } from '../shared/local-detector';
import { IPSET_DEFINITIONS, ipsetNameFor } from './ipset-definitions';
import * as n from './ipvs-names';

/** What buildIpvsIptablesRules needs: the family, which sets have entries, and the masquerade settings. */
export interface IpvsIptablesInput {
  /** Which family's rules (IPv6 rules match the sets' IPv6 names). */
  family: IPFamily;
  /** Whether the set (by IPv4 name) has entries: rules matching an empty set are left out. */
  nonEmpty: (set: string) => boolean;
  /** Bit of the packet mark that asks for masquerade (`iptables.masqueradeBit`, default 14). */
  masqueradeBit: number;
  /** Masquerade all Service traffic (`iptables.masqueradeAll`). */
  masqueradeAll: boolean;
  /** Tells traffic from local pods apart (detectLocalMode); not implemented = its rules are left out. */
  localDetector: LocalDetector;
  /**
   * LoadBalancer IP:ports with source ranges that do not hold the node's IP: the node itself
   * must not reach them either (KUBE-IPVS-OUT-FILTER).
   */
  lbNoNodeAccess?: readonly LbNoNodeAccess[];
}

/** One LoadBalancer ingress IP:port the node may not connect to. */
export interface LbNoNodeAccess {
  readonly ip: string;
  readonly protocol: 'tcp' | 'udp' | 'sctp';
  readonly port: number;
}

/** Jumps from built-in chains into ours (upstream's iptablesJumpChain, with its comments). */
export const IPVS_JUMP_RULES: readonly JumpRule[] = [
  jump('nat', 'OUTPUT', n.IPVS_KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'PREROUTING', n.IPVS_KUBE_SERVICES, 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', n.IPVS_KUBE_POSTROUTING, 'kubernetes postrouting rules'),
  jump('filter', 'FORWARD', n.IPVS_KUBE_FORWARD, 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', n.IPVS_KUBE_NODE_PORT, 'kubernetes health check rules'),
  jump('filter', 'INPUT', n.IPVS_KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'),
  jump('filter', 'FORWARD', n.IPVS_KUBE_PROXY_FIREWALL, 'kube-proxy firewall rules'),
  jump('filter', 'INPUT', n.IPVS_KUBE_IPVS_FILTER, 'kubernetes ipvs access filter'),
  jump('filter', 'OUTPUT', n.IPVS_KUBE_IPVS_OUT_FILTER, 'kubernetes ipvs access filter'),
];

function jump(table: 'nat' | 'filter', chain: string, target: string, comment: string): JumpRule {
  return { table, chain, args: ['-m', 'comment', '--comment', comment, '-j', target] };
}

/**
 * Sets whose non-emptiness adds one rule jumping (or returning) from a chain: upstream's
 * ipsetWithIptablesChain table, in its order.
 */
const SET_RULES: readonly {
  set: string;
  table: 'nat' | 'filter';
  from: string;
  to: string;
  match: string;
  protocol?: string;
}[] = [
  {
    set: n.KUBE_LOOP_BACK,
    table: 'nat',
    from: n.IPVS_KUBE_POSTROUTING,
    to: 'MASQUERADE',
    match: 'dst,dst,src',
  },
  {
    set: n.KUBE_LOAD_BALANCER,
    table: 'nat',
    from: n.IPVS_KUBE_SERVICES,
    to: n.IPVS_KUBE_LOAD_BALANCER,
    match: 'dst,dst',
  },
  {
    set: n.KUBE_LOAD_BALANCER_FW,
    table: 'filter',
    from: n.IPVS_KUBE_PROXY_FIREWALL,
    to: n.IPVS_KUBE_SOURCE_RANGES_FIREWALL,
    match: 'dst,dst',
  },
  {
    set: n.KUBE_LOAD_BALANCER_SOURCE_CIDR,
    table: 'filter',
    from: n.IPVS_KUBE_SOURCE_RANGES_FIREWALL,
    to: 'RETURN',
    match: 'dst,dst,src',
  },
  {
    set: n.KUBE_LOAD_BALANCER_SOURCE_IP,
    table: 'filter',
    from: n.IPVS_KUBE_SOURCE_RANGES_FIREWALL,
    to: 'RETURN',
    match: 'dst,dst,src',
  },
  {
    set: n.KUBE_LOAD_BALANCER_LOCAL,
    table: 'nat',
    from: n.IPVS_KUBE_LOAD_BALANCER,
    to: 'RETURN',
    match: 'dst,dst',
  },
  {
    set: n.KUBE_NODE_PORT_LOCAL_TCP,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: 'RETURN',
    match: 'dst',
    protocol: 'tcp',
  },
  {
    set: n.KUBE_NODE_PORT_TCP,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: n.IPVS_KUBE_MARK_MASQ,
    match: 'dst',
    protocol: 'tcp',
  },
  {
    set: n.KUBE_NODE_PORT_LOCAL_UDP,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: 'RETURN',
    match: 'dst',
    protocol: 'udp',
  },
  {
    set: n.KUBE_NODE_PORT_UDP,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: n.IPVS_KUBE_MARK_MASQ,
    match: 'dst',
    protocol: 'udp',
  },
  {
    set: n.KUBE_NODE_PORT_LOCAL_SCTP_HASH,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: 'RETURN',
    match: 'dst,dst',
    protocol: 'sctp',
  },
  {
    set: n.KUBE_NODE_PORT_SCTP_HASH,
    table: 'nat',
    from: n.IPVS_KUBE_NODE_PORT,
    to: n.IPVS_KUBE_MARK_MASQ,
    match: 'dst,dst',
    protocol: 'sctp',
  },
];

const COMMENTS = new Map(IPSET_DEFINITIONS.map((d) => [d.name, d.comment]));

/**
 * The nat and filter rules of upstream's ipvs proxier (writeIptablesRules): IPVS does the
 * load balancing; iptables only marks for masquerade, filters, and accepts traffic to VIPs,
 * all keyed on ipsets so the rule count stays constant as Services grow.
 */
export function buildIpvsIptablesRules(input: IpvsIptablesInput): IptablesRuleset {
  const { family } = input;
  const w: IpvsRuleWriter = {
    input,
    nonEmpty: input.nonEmpty,
    set: (name) => ipsetNameFor(name, family),
    comment: (name) => ['-m', 'comment', '--comment', COMMENTS.get(name)!],
    mark: `0x${(2 ** input.masqueradeBit).toString(16).padStart(6, '0')}`,
    nat: [],
    filter: [],
  };
  // Connections from localhost never reach a Service through these rules.
  w.nat.push([
    '-A',
    n.IPVS_KUBE_SERVICES,
    '-s',
    family === 'IPv6' ? '::1/128' : '127.0.0.0/8',
    '-j',
    'RETURN',
  ]);
  // In upstream's order: each table's rules come out in the order they are written here.
  writeSetRules(w);
  writeClusterIPRules(w);
  writeExternalIPRules(w);
  writeNodePortAndFirewallRules(w);
  writeAcceptRules(w);
  writeFilterRules(w);
  writePostroutingRules(w);
  return {
    nat: { chains: [...n.IPVS_NAT_CHAINS], rules: w.nat, deleteChains: [] },
    filter: { chains: [...n.IPVS_FILTER_CHAINS], rules: w.filter, deleteChains: [] },
  };
}

/** What each step of buildIpvsIptablesRules reads and appends its rules to. */
interface IpvsRuleWriter {
  readonly input: IpvsIptablesInput;
  readonly nonEmpty: (set: string) => boolean;
  /** The set's name in this family. */
  readonly set: (name: string) => string;
  /** `-m comment --comment <the set's comment>`. */
  readonly comment: (name: string) => string[];
  /** The masquerade mark, as `0x004000`. */
  readonly mark: string;
  readonly nat: string[][];
  readonly filter: string[][];
}

/** One rule per non-empty set of SET_RULES. */
function writeSetRules({ nonEmpty, set, comment, nat, filter }: IpvsRuleWriter): void {
  for (const r of SET_RULES) {
    if (!nonEmpty(r.set)) continue;
    const rule = [
      '-A',
      r.from,
      ...(r.protocol ? ['-p', r.protocol] : []),
      ...comment(r.set),
      '-m',
      'set',
      '--match-set',
      set(r.set),
      r.match,
      '-j',
      r.to,
    ];
    (r.table === 'nat' ? nat : filter).push(rule);
  }
}

/** Masquerade for cluster IP traffic: all of it, off-cluster sources, or VIP sources. */
function writeClusterIPRules({ input, nonEmpty, set, comment, nat }: IpvsRuleWriter): void {
  if (nonEmpty(n.KUBE_CLUSTER_IP)) {
    const base = [
      '-A',
      n.IPVS_KUBE_SERVICES,
      ...comment(n.KUBE_CLUSTER_IP),
      '-m',
      'set',
      '--match-set',
      set(n.KUBE_CLUSTER_IP),
    ];
    if (input.masqueradeAll) nat.push([...base, 'dst,dst', '-j', n.IPVS_KUBE_MARK_MASQ]);
    // Off-cluster traffic to a ClusterIP (a static route to the Service range) may leave the node again.
    else if (input.localDetector.implemented)
      nat.push([...base, 'dst,dst', ...input.localDetector.ifNotLocal, '-j', n.IPVS_KUBE_MARK_MASQ]);
    // Without a local detector, masquerade node-originated traffic whose source is a VIP
    // (kube-ipvs0 makes the kernel pick a VIP as the source address).
    else nat.push([...base, 'src,dst', '-j', n.IPVS_KUBE_MARK_MASQ]);
  }
}

/** External IPs: masquerade (unless Local policy) and accept from off the machine or to the node's own IPs. */
function writeExternalIPRules({ nonEmpty, set, comment, nat }: IpvsRuleWriter): void {
  const externalIPRules = (base: string[]) => {
    // Traffic from off the machine (not from a bridge, not from a local process)...
    nat.push([
      ...base,
      '-m',
      'physdev',
      '!',
      '--physdev-is-in',
      '-m',
      'addrtype',
      '!',
      '--src-type',
      'LOCAL',
      '-j',
      'ACCEPT',
    ]);
    // ...and traffic to an external IP the node itself holds (e.g. cloud LBs in the local table).
    nat.push([...base, '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'ACCEPT']);
  };
  if (nonEmpty(n.KUBE_EXTERNAL_IP)) {
    const base = [
      '-A',
      n.IPVS_KUBE_SERVICES,
      ...comment(n.KUBE_EXTERNAL_IP),
      '-m',
      'set',
      '--match-set',
      set(n.KUBE_EXTERNAL_IP),
      'dst,dst',
    ];
    nat.push([...base, '-j', n.IPVS_KUBE_MARK_MASQ]);
    externalIPRules(base);
  }
  if (nonEmpty(n.KUBE_EXTERNAL_IP_LOCAL)) {
    externalIPRules([
      '-A',
      n.IPVS_KUBE_SERVICES,
      ...comment(n.KUBE_EXTERNAL_IP_LOCAL),
      '-m',
      'set',
      '--match-set',
      set(n.KUBE_EXTERNAL_IP_LOCAL),
      'dst,dst',
    ]);
  }
}

/** The jump to node ports, LB masquerade, the source-range drop and the node's own blocked LB connections. */
function writeNodePortAndFirewallRules({ input, nat, filter }: IpvsRuleWriter): void {
  nat.push([
    '-A',
    n.IPVS_KUBE_SERVICES,
    '-m',
    'addrtype',
    '--dst-type',
    'LOCAL',
    '-j',
    n.IPVS_KUBE_NODE_PORT,
  ]);
  nat.push(['-A', n.IPVS_KUBE_LOAD_BALANCER, '-j', n.IPVS_KUBE_MARK_MASQ]);
  filter.push(['-A', n.IPVS_KUBE_SOURCE_RANGES_FIREWALL, '-j', 'DROP']);

  // The node's own connections to an LB IP never pass INPUT or FORWARD (IPVS redirects them in
  // OUTPUT), so the source-range firewall cannot see them. Their source is the LB IP itself
  // (bound to kube-ipvs0), which is what picks them out here, after IPVS chose the connection.
  for (const e of input.lbNoNodeAccess ?? []) {
    filter.push([
      '-A',
      n.IPVS_KUBE_IPVS_OUT_FILTER,
      '-s',
      e.ip,
      '-m',
      'ipvs',
      '--vaddr',
      e.ip,
      '--vproto',
      e.protocol,
      '--vport',
      String(e.port),
      '-j',
      'DROP',
    ]);
  }
}

/** Accept traffic to virtual services last, so other rules cannot make IPVS rules useless. */
function writeAcceptRules({ nonEmpty, set, nat }: IpvsRuleWriter): void {
  for (const s of [n.KUBE_CLUSTER_IP, n.KUBE_LOAD_BALANCER]) {
    if (nonEmpty(s))
      nat.push(['-A', n.IPVS_KUBE_SERVICES, '-m', 'set', '--match-set', set(s), 'dst,dst', '-j', 'ACCEPT']);
  }
}

/** Forwarding of marked traffic, health check node ports, and the filter of kube-ipvs0's VIPs. */
function writeFilterRules({ set, comment, mark, filter }: IpvsRuleWriter): void {
  // Marked traffic is forwarded even when the FORWARD policy is not ACCEPT (NodePorts).
  filter.push(...forwardAcceptRules(n.IPVS_KUBE_FORWARD, mark));
  filter.push([
    '-A',
    n.IPVS_KUBE_NODE_PORT,
    ...comment(n.KUBE_HEALTH_CHECK_NODE_PORT),
    '-m',
    'set',
    '--match-set',
    set(n.KUBE_HEALTH_CHECK_NODE_PORT),
    'dst',
    '-j',
    'ACCEPT',
  ]);

  // VIPs on kube-ipvs0 are local addresses: without this, any host port would answer on them.
  for (const [s, match] of [
    [n.KUBE_LOAD_BALANCER, 'dst,dst'],
    [n.KUBE_CLUSTER_IP, 'dst,dst'],
    [n.KUBE_EXTERNAL_IP, 'dst,dst'],
    [n.KUBE_EXTERNAL_IP_LOCAL, 'dst,dst'],
    [n.KUBE_HEALTH_CHECK_NODE_PORT, 'dst'],
  ] as const) {
    filter.push(['-A', n.IPVS_KUBE_IPVS_FILTER, '-m', 'set', '--match-set', set(s), match, '-j', 'RETURN']);
  }
  filter.push([
    '-A',
    n.IPVS_KUBE_IPVS_FILTER,
    '-m',
    'conntrack',
    '--ctstate',
    'NEW',
    '-m',
    'set',
    '--match-set',
    set(n.KUBE_IPVS_IPS),
    'dst',
    '-j',
    'REJECT',
  ]);
}

/** KUBE-POSTROUTING's masquerade of marked packets, and KUBE-MARK-MASQ. */
function writePostroutingRules({ mark, nat }: IpvsRuleWriter): void {
  nat.push(['-A', n.IPVS_KUBE_POSTROUTING, '-m', 'mark', '!', '--mark', `${mark}/${mark}`, '-j', 'RETURN']);
  // Clear the mark so a packet re-traversing the stack is not masqueraded twice.
  nat.push(['-A', n.IPVS_KUBE_POSTROUTING, '-j', 'MARK', '--xor-mark', mark]);
  nat.push([
    '-A',
    n.IPVS_KUBE_POSTROUTING,
    '-m',
    'comment',
    '--comment',
    'kubernetes service traffic requiring SNAT',
    '-j',
    'MASQUERADE',
    '--random-fully',
  ]);
  nat.push(['-A', n.IPVS_KUBE_MARK_MASQ, '-j', 'MARK', '--or-mark', mark]);
}
