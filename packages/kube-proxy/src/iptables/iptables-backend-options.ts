import type { LocalDetector } from '../shared/local-detector';

/** What the iptables backend needs besides the snapshot (from the configuration and the node). */
export interface IptablesBackendOptions {
  /** Bit of the packet mark meaning "masquerade me" (iptables.masqueradeBit, default 14). */
  masqueradeBit?: number;
  /** SNAT all traffic to cluster IPs (iptables.masqueradeAll). */
  masqueradeAll?: boolean;
  localDetector?: LocalDetector;
  /** Allow NodePorts on 127.0.0.0/8 (iptables.localhostNodePorts; IPv4 only). */
  localhostNodePorts?: boolean;
  /** Node IPs NodePorts are served on; empty/undefined means every local address. */
  nodePortIPs?: readonly string[];
  /** The node's own IP: lets the node reach LB VIPs whose source ranges include it. */
  nodeIP?: string;
  /** With nf_conntrack_tcp_be_liberal set, INVALID packets need not be dropped. */
  conntrackTCPLiberal?: boolean;
  /**
   * The nfacct counters that exist in the kernel (see runtime/nfacct): rules feed only these,
   * as upstream, which checks them on each full sync. Absent: no `-m nfacct` rules at all.
   */
  nfacctCounters?: readonly string[];
  /** Use MASQUERADE --random-fully (when the iptables binary supports it). */
  randomFully?: boolean;
  /**
   * Not an upstream setting (upstream hard-codes 1000, LARGE_CLUSTER_ENDPOINTS_THRESHOLD):
   * above this many endpoints per-endpoint rules carry no comments. For benchmarks and tests
   * only; `Infinity` keeps every comment.
   */
  largeClusterEndpointsThreshold?: number;
}
