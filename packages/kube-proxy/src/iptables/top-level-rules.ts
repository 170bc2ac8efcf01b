import { CT_STATE_INVALID_DROPPED_COUNTER, LOCALHOST_NODEPORTS_ACCEPTED_COUNTER } from '../runtime/nfacct';
import { forwardAcceptRules } from '../shared/forward-accept-rules';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names';
import type { IptablesBackendOptions } from './iptables-backend-options';
import type { RuleSink } from './write-service-rules';

/** Our filter-table chains, in the order upstream declares them. */
export const FILTER_TOP_CHAINS: readonly string[] = [
  KUBE_SERVICES,
  KUBE_EXTERNAL_SERVICES,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
];

/**
 * Whether NodePorts answer on 127.0.0.0/8: IPv4 only, iptables.localhostNodePorts not false, and
 * nodePortAddresses (if set) including a loopback address — upstream turns the setting off when
 * nodePortAddresses excludes loopback. It is what route_localnet=1 is set for.
 */
export function localhostNodePortsActive(options: IptablesBackendOptions, isIPv6: boolean): boolean {
  if (isIPv6 || options.localhostNodePorts === false) return false;
  const ips = options.nodePortIPs;
  return !ips || ips.length === 0 || ips.some((ip) => ip.startsWith('127.'));
}

/**
 * The filter chains a sync declares (and so flushes and refills): ours, plus KUBE-FIREWALL
 * while localhost NodePorts are active, as upstream. Otherwise KUBE-FIREWALL is only made to
 * exist (its jumps are installed either way) and whatever kubelet put in it stays.
 */
export function filterTopChains(options: IptablesBackendOptions, isIPv6: boolean): readonly string[] {
  return localhostNodePortsActive(options, isIPv6)
    ? [...FILTER_TOP_CHAINS, KUBE_FIREWALL]
    : FILTER_TOP_CHAINS;
}

/**
 * The CVE-2020-8558 mitigation (kubernetes#90259): with route_localnet=1 a host on the node's
 * network could reach services bound to 127.0.0.1; drop new connections to 127.0.0.0/8 from
 * other sources. DNAT is excluded so localhost NodePorts (DNATed away from 127/8) still work.
 * Upstream's rule, in iptables-save's order.
 */
export function writeLocalnetFirewall(
  filter: RuleSink,
  options: IptablesBackendOptions,
  isIPv6: boolean,
): void {
  if (!localhostNodePortsActive(options, isIPv6)) return;
  filter.rule(
    '-A',
    KUBE_FIREWALL,
    '!',
    '-s',
    '127.0.0.0/8',
    '-d',
    '127.0.0.0/8',
    '-m',
    'comment',
    '--comment',
    'block incoming localnet connections',
    '-m',
    'conntrack',
    '!',
    '--ctstate',
    'RELATED,ESTABLISHED,DNAT',
    '-j',
    'DROP',
  );
}

/** Whether the kernel has the nfacct counter `name` for our rules to feed (see IptablesBackendOptions.nfacctCounters). */
export function hasNfacctCounter(options: IptablesBackendOptions, name: string): boolean {
  return options.nfacctCounters?.includes(name) ?? false;
}

/** Whether NodePort rules get their counted 127.0.0.0/8 twin (upstream: localhost NodePorts on and the counter present). */
export function countsLocalhostNodePorts(options: IptablesBackendOptions, isIPv6: boolean): boolean {
  return (
    localhostNodePortsActive(options, isIPv6) &&
    hasNfacctCounter(options, LOCALHOST_NODEPORTS_ACCEPTED_COUNTER)
  );
}

/** Our nat-table chains that are not per-service, in the order upstream declares them. */
export const NAT_TOP_CHAINS: readonly string[] = [
  KUBE_SERVICES,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_MARK_MASQ,
];

/** The masquerade mark for iptables.masqueradeBit, as Go's %#08x (upstream's format). */
export function masqueradeMark(options: IptablesBackendOptions): string {
  return `0x${(2 ** (options.masqueradeBit ?? 14)).toString(16).padStart(8, '0')}`;
}

/** KUBE-POSTROUTING and KUBE-MARK-MASQ: the same whatever the Services. */
export function writeMasqueradeRules(nat: RuleSink, options: IptablesBackendOptions): void {
  const mark = masqueradeMark(options);
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
}

/** The KUBE-SERVICES → KUBE-NODEPORTS jumps; they must come after every Service's rules. */
export function writeNodePortsJumps(nat: RuleSink, options: IptablesBackendOptions, isIPv6: boolean): void {
  // NodePorts come last in KUBE-SERVICES: they match by port alone.
  const comment = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
  if (!options.nodePortIPs || options.nodePortIPs.length === 0) {
    const dest = ['-m', 'addrtype', '--dst-type', 'LOCAL'];
    // Localhost NodePorts never work for IPv6, and for IPv4 only with route_localnet.
    if (isIPv6) dest.push('!', '-d', '::1/128');
    else if (options.localhostNodePorts === false) dest.push('!', '-d', '127.0.0.0/8');
    nat.rule('-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment, ...dest, '-j', KUBE_NODEPORTS);
    return;
  }
  for (const ip of options.nodePortIPs) {
    const loopback = isIPv6 ? ip === '::1' : ip.startsWith('127.');
    if (loopback && (isIPv6 || options.localhostNodePorts === false)) continue;
    nat.rule('-A', KUBE_SERVICES, '-m', 'comment', '--comment', comment, '-d', ip, '-j', KUBE_NODEPORTS);
  }
}

/** KUBE-FORWARD: accept marked and established service traffic, drop INVALID. */
export function writeForwardRules(filter: RuleSink, options: IptablesBackendOptions): void {
  const mark = masqueradeMark(options);
  // INVALID packets can reset connections unless conntrack is liberal (kubernetes#74839).
  // Counted in the ct_state_invalid_dropped_pkts nfacct object when it exists (a metric).
  if (!options.conntrackTCPLiberal) {
    const count = hasNfacctCounter(options, CT_STATE_INVALID_DROPPED_COUNTER)
      ? ['-m', 'nfacct', '--nfacct-name', CT_STATE_INVALID_DROPPED_COUNTER]
      : [];
    filter.rule('-A', KUBE_FORWARD, '-m', 'conntrack', '--ctstate', 'INVALID', ...count, '-j', 'DROP');
  }
  for (const rule of forwardAcceptRules(KUBE_FORWARD, mark)) filter.rule(...rule);
}
