/**
 * Names the ipvs mode shares with upstream kube-proxy, so a node switched between our proxy
 * and upstream's (or cleaned up by either) sees the same interface, chains and sets.
 */

/** The dummy interface every ClusterIP / external IP / LB ingress IP is bound to. */
export const KUBE_IPVS_INTERFACE = 'kube-ipvs0';

// iptables chains (nat and filter) the ipvs mode owns.
/** ipvs mode's nat entry chain for service traffic. */
export const IPVS_KUBE_SERVICES = 'KUBE-SERVICES';
/** ipvs mode's nat chain that masquerades marked packets. */
export const IPVS_KUBE_POSTROUTING = 'KUBE-POSTROUTING';
/** ipvs mode's chain that marks packets for masquerading. */
export const IPVS_KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
/** Note: ipvs mode says KUBE-NODE-PORT (singular), iptables mode KUBE-NODEPORTS. */
export const IPVS_KUBE_NODE_PORT = 'KUBE-NODE-PORT';
/** ipvs mode's nat chain for load balancer traffic. */
export const IPVS_KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
/** ipvs mode's filter chain for forwarded service traffic. */
export const IPVS_KUBE_FORWARD = 'KUBE-FORWARD';
/** ipvs mode's filter chain for kube-proxy's firewall rules. */
export const IPVS_KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** ipvs mode's filter chain dropping traffic outside loadBalancerSourceRanges. */
export const IPVS_KUBE_SOURCE_RANGES_FIREWALL = 'KUBE-SOURCE-RANGES-FIREWALL';
/** ipvs mode's filter chain that drops packets to kube-ipvs0 addresses on ports no service uses. */
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
/** The filter-table chains ipvs mode creates. */
export const IPVS_FILTER_CHAINS = [
  IPVS_KUBE_FORWARD,
  IPVS_KUBE_NODE_PORT,
  IPVS_KUBE_PROXY_FIREWALL,
  IPVS_KUBE_SOURCE_RANGES_FIREWALL,
  IPVS_KUBE_IPVS_FILTER,
  IPVS_KUBE_IPVS_OUT_FILTER,
] as const;

// ipsets (IPv4 names; IPv6 ones are derived by ipsetNameFor).
/** ipset of endpoint IP,port,IP for hairpin (pod to its own service) masquerading. */
export const KUBE_LOOP_BACK = 'KUBE-LOOP-BACK';
/** ipset of every ClusterIP,port. */
export const KUBE_CLUSTER_IP = 'KUBE-CLUSTER-IP';
/** ipset of external IP,port entries. */
export const KUBE_EXTERNAL_IP = 'KUBE-EXTERNAL-IP';
/** ipset of external IP,port entries with externalTrafficPolicy Local. */
export const KUBE_EXTERNAL_IP_LOCAL = 'KUBE-EXTERNAL-IP-LOCAL';
/** ipset of load balancer IP,port entries. */
export const KUBE_LOAD_BALANCER = 'KUBE-LOAD-BALANCER';
/** ipset of load balancer IP,port entries with externalTrafficPolicy Local. */
export const KUBE_LOAD_BALANCER_LOCAL = 'KUBE-LOAD-BALANCER-LOCAL';
/** ipset of load balancer IP,port entries that have source ranges. */
export const KUBE_LOAD_BALANCER_FW = 'KUBE-LOAD-BALANCER-FW';
/** ipset of load balancer IP,port,source IP entries allowed through. */
export const KUBE_LOAD_BALANCER_SOURCE_IP = 'KUBE-LOAD-BALANCER-SOURCE-IP';
/** ipset of load balancer IP,port,source CIDR entries allowed through. */
export const KUBE_LOAD_BALANCER_SOURCE_CIDR = 'KUBE-LOAD-BALANCER-SOURCE-CIDR';
/** bitmap ipset of TCP NodePorts. */
export const KUBE_NODE_PORT_TCP = 'KUBE-NODE-PORT-TCP';
/** bitmap ipset of TCP NodePorts with externalTrafficPolicy Local. */
export const KUBE_NODE_PORT_LOCAL_TCP = 'KUBE-NODE-PORT-LOCAL-TCP';
/** bitmap ipset of UDP NodePorts. */
export const KUBE_NODE_PORT_UDP = 'KUBE-NODE-PORT-UDP';
/** bitmap ipset of UDP NodePorts with externalTrafficPolicy Local. */
export const KUBE_NODE_PORT_LOCAL_UDP = 'KUBE-NODE-PORT-LOCAL-UDP';
/** ipset of node IP,SCTP NodePort entries. */
export const KUBE_NODE_PORT_SCTP_HASH = 'KUBE-NODE-PORT-SCTP-HASH';
/** ipset of node IP,SCTP NodePort entries with externalTrafficPolicy Local. */
export const KUBE_NODE_PORT_LOCAL_SCTP_HASH = 'KUBE-NODE-PORT-LOCAL-SCTP-HASH';
/** bitmap ipset of health check NodePorts. */
export const KUBE_HEALTH_CHECK_NODE_PORT = 'KUBE-HEALTH-CHECK-NODE-PORT';
/** ipset of every address bound to kube-ipvs0. */
export const KUBE_IPVS_IPS = 'KUBE-IPVS-IPS';
