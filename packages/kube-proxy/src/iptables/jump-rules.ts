import type { JumpRule } from '../shared/iptables-ruleset';
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_FIREWALL,
  KUBE_FORWARD,
  KUBE_NODEPORTS,
  KUBE_POSTROUTING,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from './chain-names';

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
