import type { IptablesInterface } from '@nodeagent/netfilter/iptables';
import type { KubeletLogger } from '../kubelet-logger';

/**
 * The chain whose presence in iptables-legacy or iptables-nft tells containerised components
 * (kube-proxy images' iptables-wrapper among them) which back end the node uses.
 */
export const KUBE_IPTABLES_HINT_CHAIN = 'KUBE-IPTABLES-HINT';

/** The filter chain holding the kubelet's martian-packet rule (IPv4 only). */
export const KUBE_FIREWALL_CHAIN = 'KUBE-FIREWALL';

/** The canary the kubelet keeps in mangle, nat and filter to notice a flush of its rules. */
export const KUBE_KUBELET_CANARY_CHAIN = 'KUBE-KUBELET-CANARY';

/**
 * Upstream's argument vector for the rule in KUBE-FIREWALL that drops packets to 127.0.0.0/8
 * not coming from it (https://issue.k8s.io/90259, a hole opened by kube-proxy's route_localnet).
 * kube-proxy's iptables mode writes an identical copy, so the text must stay exactly this.
 */
export const BLOCK_LOCALNET_RULE: readonly string[] = [
  '-m',
  'comment',
  '--comment',
  'block incoming localnet connections',
  '--dst',
  '127.0.0.0/8',
  '!',
  '--src',
  '127.0.0.0/8',
  '-m',
  'conntrack',
  '!',
  '--ctstate',
  'RELATED,ESTABLISHED,DNAT',
  '-j',
  'DROP',
];

/**
 * Upstream v1.36's syncIPTablesRules (pkg/kubelet/kubelet_network_linux.go, after KEP-3178 took
 * KUBE-MARK-DROP, KUBE-MARK-MASQ and KUBE-POSTROUTING away from the kubelet): the hint chain in
 * mangle; for IPv4 also KUBE-FIREWALL, jumped to from the top of OUTPUT then INPUT, holding the
 * localnet DROP rule. Each step is ensured (left alone when present) and the first failure is
 * logged with upstream's text and ends the sync: returns whether every step succeeded.
 */
export async function syncIPTablesRules(client: IptablesInterface, logger: KubeletLogger): Promise<boolean> {
  const steps: [string, () => Promise<unknown>][] = [
    [
      'Failed to ensure that iptables hint chain exists',
      () => client.ensureChain('mangle', KUBE_IPTABLES_HINT_CHAIN),
    ],
  ];
  // Upstream: "ipv6 doesn't have this issue".
  if (client.family === 'ipv4') {
    steps.push(
      [
        'Failed to ensure that filter table KUBE-FIREWALL chain exists',
        () => client.ensureChain('filter', KUBE_FIREWALL_CHAIN),
      ],
      [
        'Failed to ensure that OUTPUT chain jumps to KUBE-FIREWALL',
        () => client.ensureRule('prepend', 'filter', 'OUTPUT', ['-j', KUBE_FIREWALL_CHAIN]),
      ],
      [
        'Failed to ensure that INPUT chain jumps to KUBE-FIREWALL',
        () => client.ensureRule('prepend', 'filter', 'INPUT', ['-j', KUBE_FIREWALL_CHAIN]),
      ],
      [
        'Failed to ensure rule to drop invalid localhost packets in filter table KUBE-FIREWALL chain',
        () => client.ensureRule('append', 'filter', KUBE_FIREWALL_CHAIN, BLOCK_LOCALNET_RULE),
      ],
    );
  }
  for (const [failure, step] of steps) {
    try {
      await step();
    } catch (error) {
      logger.error({ err: String(error) }, failure);
      return false;
    }
  }
  return true;
}
