import type { Match, Rule } from '@nodeagent/netfilter/iptables';

// Upstream userspace mode's chain names: PORTALS catch cluster/external IPs, NODEPORT catch
// node ports; CONTAINER is hooked from PREROUTING (traffic arriving from pods and other
// hosts), HOST from OUTPUT (traffic this host originates).
/** nat, from PREROUTING: redirects traffic from pods and other hosts to cluster and external IPs to the proxies. */
export const KUBE_PORTALS_CONTAINER = 'KUBE-PORTALS-CONTAINER';
/** nat, from OUTPUT: redirects this host's own traffic to cluster and external IPs to the proxies. */
export const KUBE_PORTALS_HOST = 'KUBE-PORTALS-HOST';
/** nat, from PREROUTING (local destinations only): redirects node port traffic from pods and other hosts. */
export const KUBE_NODEPORT_CONTAINER = 'KUBE-NODEPORT-CONTAINER';
/** nat, from OUTPUT (local destinations only): redirects this host's own node port traffic. */
export const KUBE_NODEPORT_HOST = 'KUBE-NODEPORT-HOST';

/** Every nat chain the userspace mode owns: rewritten whole on each sync, deleted by `--cleanup`. */
export const USERSPACE_CHAINS = [
  KUBE_PORTALS_CONTAINER,
  KUBE_PORTALS_HOST,
  KUBE_NODEPORT_CONTAINER,
  KUBE_NODEPORT_HOST,
] as const;

/** A rule in a built-in nat chain that sends traffic into one of our chains. */
export interface UserspaceJumpRule {
  readonly builtin: 'PREROUTING' | 'OUTPUT';
  readonly rule: Rule;
}

const comment = (text: string): Match => ({ kind: 'comment', comment: text });
const localDestination: Match = { kind: 'addrtype', destinationType: 'LOCAL' };

/** The jumps from PREROUTING/OUTPUT into our chains; node ports only for local destinations. */
export const USERSPACE_JUMP_RULES: readonly UserspaceJumpRule[] = [
  {
    builtin: 'PREROUTING',
    rule: {
      matches: [comment('handle ClusterIPs; NOTE: this must be before the NodePort rules')],
      target: { kind: 'jump', chain: KUBE_PORTALS_CONTAINER },
    },
  },
  {
    builtin: 'PREROUTING',
    rule: {
      matches: [
        localDestination,
        comment('handle service NodePorts; NOTE: this must be the last rule in the chain'),
      ],
      target: { kind: 'jump', chain: KUBE_NODEPORT_CONTAINER },
    },
  },
  {
    builtin: 'OUTPUT',
    rule: {
      matches: [comment('handle ClusterIPs; NOTE: this must be before the NodePort rules')],
      target: { kind: 'jump', chain: KUBE_PORTALS_HOST },
    },
  },
  {
    builtin: 'OUTPUT',
    rule: {
      matches: [
        localDestination,
        comment('handle service NodePorts; NOTE: this must be the last rule in the chain'),
      ],
      target: { kind: 'jump', chain: KUBE_NODEPORT_HOST },
    },
  },
];
