// The iptables rule model: what iptables-restore reads and iptables-save prints, as data.

/** The address family a ruleset is for. */
export type IpFamily = 'ipv4' | 'ipv6';
/** A table this model covers. */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw';
/** A built-in chain's policy. */
export type ChainPolicy = 'ACCEPT' | 'DROP';

/** `-p` / `-m tcp|udp|sctp`: protocols whose port matches we model. */
export type PortProtocol = 'tcp' | 'udp' | 'sctp';
/** A rule's protocol match. */
export type Protocol = PortProtocol | 'icmp' | 'ipv6-icmp' | 'icmpv6' | 'all';

/** A port or an inclusive range `[low, high]` (rendered `low:high`). */
export type PortSpec = number | readonly [number, number];

/** One match of a rule (`-p`, `-d`, `-m comment`, …), by kind. */
export type Match =
  | { kind: 'protocol'; protocol: Protocol; negate?: boolean }
  /** `-s` (CIDR or bare address; bare addresses are hosts). */
  | { kind: 'source'; address: string; negate?: boolean }
  | { kind: 'destination'; address: string; negate?: boolean }
  | { kind: 'in-interface'; name: string; negate?: boolean }
  | { kind: 'out-interface'; name: string; negate?: boolean }
  /** `-m tcp|udp|sctp --sport/--dport`; needs a preceding `-p` of the same protocol. */
  | {
      kind: 'port';
      protocol: PortProtocol;
      sourcePort?: PortSpec;
      destinationPort?: PortSpec;
      negateSource?: boolean;
      negateDestination?: boolean;
    }
  /** `-m multiport --dports|--sports a,b,c`. */
  | { kind: 'multiport'; direction: 'source' | 'destination'; ports: readonly PortSpec[]; negate?: boolean }
  | { kind: 'comment'; comment: string }
  | { kind: 'statistic'; mode: 'random'; probability: number }
  | { kind: 'statistic'; mode: 'nth'; every: number; packet: number }
  | {
      kind: 'recent';
      name: string;
      action: 'set' | 'rcheck' | 'update' | 'remove';
      seconds?: number;
      hitcount?: number;
      reap?: boolean;
      side?: 'source' | 'destination';
      negate?: boolean;
    }
  | {
      kind: 'addrtype';
      sourceType?: AddrType;
      destinationType?: AddrType;
      negateSource?: boolean;
      negateDestination?: boolean;
    }
  | { kind: 'conntrack'; states: readonly ConntrackState[]; negate?: boolean }
  /** `-m mark --mark value[/mask]`. */
  | { kind: 'mark'; value: number; mask?: number; negate?: boolean }
  /** `-m set --match-set name dst[,dst…]`: the ipset must exist when the rule is loaded. */
  | { kind: 'set'; name: string; flags: readonly ('src' | 'dst')[]; negate?: boolean }
  /** Any other match module, kept as tokens so foreign rules survive a save → parse → render. */
  | { kind: 'module'; module: string; args: readonly string[] };

/** An addrtype match's address type. */
export type AddrType =
  | 'UNSPEC'
  | 'UNICAST'
  | 'LOCAL'
  | 'BROADCAST'
  | 'ANYCAST'
  | 'MULTICAST'
  | 'BLACKHOLE'
  | 'UNREACHABLE'
  | 'PROHIBIT'
  | 'THROW'
  | 'NAT'
  | 'XRESOLVE';

/** A conntrack match's state. */
export type ConntrackState = 'INVALID' | 'NEW' | 'ESTABLISHED' | 'RELATED' | 'UNTRACKED' | 'SNAT' | 'DNAT';

/** A rule's target (`-j`), by kind. */
export type Target =
  | { kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'RETURN' }
  /** `-j CHAIN` (or `-g CHAIN` with goto). */
  | { kind: 'jump'; chain: string; goto?: boolean }
  | { kind: 'reject'; with?: string }
  /** `-j DNAT --to-destination ip[:port]` (IPv6 as `[ip]:port`). */
  | { kind: 'dnat'; toDestination: string; random?: boolean; persistent?: boolean }
  | { kind: 'snat'; toSource: string; random?: boolean; randomFully?: boolean; persistent?: boolean }
  | { kind: 'masquerade'; randomFully?: boolean; random?: boolean; toPorts?: PortSpec }
  /** MARK: `or`/`xor`/`and`/`set` render as `--or-mark` etc.; `xset` is iptables-save's `--set-xmark v/m`. */
  | { kind: 'mark'; op: 'or' | 'xor' | 'and' | 'set'; value: number }
  | { kind: 'mark'; op: 'xset'; value: number; mask: number }
  /** Another target extension (LOG, CT, NOTRACK, …), kept as tokens. */
  | { kind: 'extension'; name: string; args: readonly string[] };

/** One rule: match clauses in order, then an optional target. */
export interface Rule {
  matches: readonly Match[];
  target?: Target;
}

/** A chain: name, policy for built-ins, and rules in order. */
export interface Chain {
  name: string;
  /** Built-in chains only. */
  policy?: ChainPolicy;
  rules: readonly Rule[];
}

/** A table's chains, and user chains to delete. */
export interface Table {
  name: TableName;
  chains: readonly Chain[];
  /** User chains to delete (`-X`) in this payload; they must be empty and unreferenced afterwards. */
  deleteChains?: readonly string[];
}

/** An iptables ruleset for one family: tables of chains of rules. */
export interface Ruleset {
  family: IpFamily;
  tables: readonly Table[];
}
