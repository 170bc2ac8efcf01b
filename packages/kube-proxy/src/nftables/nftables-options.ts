import type { IPFamily } from '../model/ip-family';
import { SharedChains } from './shared-chains';

/** Local-traffic detection as nft match expressions. */
export interface NftLocalDetector {
  readonly ifLocal?: string;
  readonly ifNotLocal?: string;
}

/** What the nftables ruleset writer needs from the configuration and the node (nftablesOptionsFromConfig builds it). */
export interface NftablesBackendOptions {
  /** Bit of the packet mark that asks for masquerade (`nftables.masqueradeBit`, default 14). */
  masqueradeBit?: number;
  /** Masquerade all Service traffic, not only traffic from outside the cluster (`nftables.masqueradeAll`). */
  masqueradeAll?: boolean;
  /** e.g. cidr 10.244.0.0/16 → { ifLocal: 'ip saddr 10.244.0.0/16', ifNotLocal: 'ip saddr != 10.244.0.0/16' } */
  localDetector?: NftLocalDetector;
  /** NodePort addresses; undefined = every local address. */
  nodePortIPs?: readonly string[];
  /**
   * This node's IP of the family: a load balancer whose source ranges include it may also be
   * reached from its own VIPs (hairpin), as upstream allows.
   */
  nodeIP?: string;
}

/** nft forms of the iptables local detectors (cidr / bridge / interface prefix). */
export function nftLocalDetector(
  mode: { cidr: string; ipv6: boolean } | { bridge: string } | { interfacePrefix: string } | undefined,
): NftLocalDetector {
  if (!mode) return {};
  if ('cidr' in mode) {
    const ipX = mode.ipv6 ? 'ip6' : 'ip';
    return { ifLocal: `${ipX} saddr ${mode.cidr}`, ifNotLocal: `${ipX} saddr != ${mode.cidr}` };
  }
  if ('bridge' in mode) return { ifLocal: `iif ${mode.bridge}`, ifNotLocal: `iif != ${mode.bridge}` };
  return { ifLocal: `iifname ${mode.interfacePrefix}*`, ifNotLocal: `iifname != ${mode.interfacePrefix}*` };
}

/** The options resolved for one family: what every part of the ruleset writer needs. */
export interface NftFamilyContext {
  readonly ipX: 'ip' | 'ip6';
  readonly addrType: 'ipv4_addr' | 'ipv6_addr';
  /** Match excluding loopback destinations (NodePorts are not served on localhost). */
  readonly noLocalhost: string;
  /** The masquerade mark as nft writes it, e.g. 0x00004000. */
  readonly mark: string;
  readonly detector: NftLocalDetector;
  readonly masqueradeAll: boolean;
  /** NodePort addresses; empty = every local address (`fib daddr type local`). */
  readonly nodePortIPs: readonly string[];
  readonly nodeIP: string | undefined;
  /** The chains Service ports share, built once for this context. */
  readonly shared: SharedChains;
}

export function nftFamilyContext(family: IPFamily, options: NftablesBackendOptions = {}): NftFamilyContext {
  const ipv6 = family === 'IPv6';
  return {
    ipX: ipv6 ? 'ip6' : 'ip',
    addrType: ipv6 ? 'ipv6_addr' : 'ipv4_addr',
    noLocalhost: ipv6 ? 'ip6 daddr != ::1' : 'ip daddr != 127.0.0.0/8',
    mark: `0x${(2 ** (options.masqueradeBit ?? 14)).toString(16).padStart(8, '0')}`,
    detector: options.localDetector ?? {},
    masqueradeAll: options.masqueradeAll ?? false,
    nodePortIPs: options.nodePortIPs ?? [],
    nodeIP: options.nodeIP,
    shared: new SharedChains(),
  };
}
