import type { IPFamily } from '../model/ip-family';
import * as n from './ipvs-names';

/** The ipset kernel types the ipvs mode's sets use (`ipset create <name> <type>`). */
export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

/** One set the ipvs mode maintains: its (IPv4) name, kernel type and the comment its iptables rule carries. */
export interface IpsetDefinition {
  readonly name: string;
  readonly type: IpsetType;
  readonly comment: string;
}

/** Every set upstream's ipvs proxier creates, in its order (the comments are upstream's too). */
export const IPSET_DEFINITIONS: readonly IpsetDefinition[] = [
  {
    name: n.KUBE_LOOP_BACK,
    type: 'hash:ip,port,ip',
    comment: 'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
  },
  {
    name: n.KUBE_CLUSTER_IP,
    type: 'hash:ip,port',
    comment: 'Kubernetes service cluster ip + port for masquerade purpose',
  },
  {
    name: n.KUBE_EXTERNAL_IP,
    type: 'hash:ip,port',
    comment: 'Kubernetes service external ip + port for masquerade and filter purpose',
  },
  {
    name: n.KUBE_EXTERNAL_IP_LOCAL,
    type: 'hash:ip,port',
    comment: 'Kubernetes service external ip + port with externalTrafficPolicy=local',
  },
  { name: n.KUBE_LOAD_BALANCER, type: 'hash:ip,port', comment: 'Kubernetes service lb portal' },
  {
    name: n.KUBE_LOAD_BALANCER_FW,
    type: 'hash:ip,port',
    comment: 'Kubernetes service load balancer ip + port for load balancer with sourceRange',
  },
  {
    name: n.KUBE_LOAD_BALANCER_LOCAL,
    type: 'hash:ip,port',
    comment: 'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
  },
  {
    name: n.KUBE_LOAD_BALANCER_SOURCE_IP,
    type: 'hash:ip,port,ip',
    comment: 'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  },
  {
    name: n.KUBE_LOAD_BALANCER_SOURCE_CIDR,
    type: 'hash:ip,port,net',
    comment: 'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  },
  {
    name: n.KUBE_NODE_PORT_TCP,
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport TCP port for masquerade purpose',
  },
  {
    name: n.KUBE_NODE_PORT_LOCAL_TCP,
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
  },
  {
    name: n.KUBE_NODE_PORT_UDP,
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport UDP port for masquerade purpose',
  },
  {
    name: n.KUBE_NODE_PORT_LOCAL_UDP,
    type: 'bitmap:port',
    comment: 'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
  },
  {
    name: n.KUBE_NODE_PORT_SCTP_HASH,
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
  },
  {
    name: n.KUBE_NODE_PORT_LOCAL_SCTP_HASH,
    type: 'hash:ip,port',
    comment: "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  },
  { name: n.KUBE_HEALTH_CHECK_NODE_PORT, type: 'bitmap:port', comment: 'Kubernetes health check node port' },
  { name: n.KUBE_IPVS_IPS, type: 'hash:ip', comment: 'Addresses on the ipvs interface' },
];

/** ipset names are at most 31 characters. */
const IPSET_NAME_MAX = 31;

/**
 * The kernel name of a set for one family. IPv6 sets are "KUBE-6-…" so both families can
 * coexist in dual-stack (upstream's rule, including the truncation to 31 characters).
 */
export function ipsetNameFor(name: string, family: IPFamily): string {
  if (family === 'IPv4' || !name.startsWith('KUBE-')) return name;
  return `KUBE-6-${name.slice('KUBE-'.length)}`.slice(0, IPSET_NAME_MAX);
}

/** Every set name of one family the ipvs mode owns (for cleanup). */
export function ownedIpsetNames(family: IPFamily): string[] {
  return IPSET_DEFINITIONS.map((d) => ipsetNameFor(d.name, family));
}

/** The `create` arguments after the set name, as upstream passes them to ipset. */
export function ipsetCreateArgs(type: IpsetType, family: IPFamily): string[] {
  if (type === 'bitmap:port') return [type, 'range', '0-65535'];
  return [type, 'family', family === 'IPv6' ? 'inet6' : 'inet', 'hashsize', '1024', 'maxelem', '65536'];
}
