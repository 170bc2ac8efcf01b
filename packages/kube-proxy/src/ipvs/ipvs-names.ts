/**
 * Names the ipvs mode shares with upstream kube-proxy, so a node switched between our proxy
 * and upstream's (or cleaned up by either) sees the same interface, chains and sets.
 */

/** The dummy interface every ClusterIP / external IP / LB ingress IP is bound to. */
export const KUBE_IPVS_INTERFACE = 'kube-ipvs0';

// iptables chains (nat and filter) the ipvs mode owns.
export const IPVS_KUBE_SERVICES = 'KUBE-SERVICES';
export const IPVS_KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const IPVS_KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
/** Note: ipvs mode says KUBE-NODE-PORT (singular), iptables mode KUBE-NODEPORTS. */
export const IPVS_KUBE_NODE_PORT = 'KUBE-NODE-PORT';
export const IPVS_KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const IPVS_KUBE_FORWARD = 'KUBE-FORWARD';
export const IPVS_KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const IPVS_KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
export const IPVS_KUBE_IPVS_FILTER = 'KUBE-IPVS-FILTER';
/** From OUTPUT: keeps the node itself out of LoadBalancer IPs whose source ranges exclude it. */
export const IPVS_KUBE_IPVS_OUT_FILTER = 'KUBE-IPVS-OUT-FILTER';

/** Chains per table, in the order upstream declares them. */
export const IPVS_NAT_CHAINS = [
  IPVS_KUBE_SERVICES,
  IPVS_KUBE_POSTROUTING,
  IPVS_KUBE_NODE_PORT,
  IPVS_KUBE_LOAD_BALANCER,
  IPVS_KUBE_MARK_MASQ,
] as const;
export const IPVS_FILTER_CHAINS = [
  IPVS_KUBE_FORWARD,
  IPVS_KUBE_NODE_PORT,
  IPVS_KUBE_PROXY_FIREWALL,
  IPVS_KUBE_SOURCE_RANGES_FIREWALL,
  IPVS_KUBE_IPVS_FILTER,
  IPVS_KUBE_IPVS_OUT_FILTER,
] as const;

// ipsets (IPv4 names; IPv6 ones are derived by ipsetNameFor).
export const KUBE_LOOP_BACK = 'KUBE-LOOP-BACK';
export const KUBE_CLUSTER_IP = 'KUBE-CLUSTER-IP';
export const KUBE_EXTERNAL_IP = 'KUBE-EXTERNAL-IP';
export const KUBE_EXTERNAL_IP_LOCAL = 'KUBE-EXTERNAL-IP-LOCAL';
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
export const KUBE_LOAD_BALANCER_LOCAL = 'KUBE-LOAD-BALANCER-LOCAL';
export const KUBE_LOAD_BALANCER_FW = 'KUBE-LOAD-BALANCER-FW';
export const KUBE_LOAD_BALANCER_SOURCE_IP = 'KUBE-LOAD-BALANCER-SOURCE-IP';
export const KUBE_LOAD_BALANCER_SOURCE_CIDR = 'KUBE-LOAD-BALANCER-SOURCE-CIDR';
export const KUBE_NODE_PORT_TCP = 'KUBE-NODE-PORT-TCP';
export const KUBE_NODE_PORT_LOCAL_TCP = 'KUBE-NODE-PORT-LOCAL-TCP';
export const KUBE_NODE_PORT_UDP = 'KUBE-NODE-PORT-UDP';
export const KUBE_NODE_PORT_LOCAL_UDP = 'KUBE-NODE-PORT-LOCAL-UDP';
export const KUBE_NODE_PORT_SCTP_HASH = 'KUBE-NODE-PORT-SCTP-HASH';
export const KUBE_NODE_PORT_LOCAL_SCTP_HASH = 'KUBE-NODE-PORT-LOCAL-SCTP-HASH';
export const KUBE_HEALTH_CHECK_NODE_PORT = 'KUBE-HEALTH-CHECK-NODE-PORT';
export const KUBE_IPVS_IPS = 'KUBE-IPVS-IPS';
