import { joinHostPort } from '@nodeagent/primitives/go-text';
import { sha256Base32 } from '../hash-names';

// Chain names exactly as upstream kube-proxy's iptables mode makes them, so rules written by
// either can be recognised (and cleaned up, or taken over) by the other.

/** kube-proxy's entry chain for ClusterIPs and external IPs. */
export const KUBE_SERVICES_CHAIN = 'KUBE-SERVICES';
/** kube-proxy's filter chain rejecting external traffic to services without endpoints. */
export const KUBE_EXTERNAL_SERVICES_CHAIN = 'KUBE-EXTERNAL-SERVICES';
/** kube-proxy's chain of NodePort rules. */
export const KUBE_NODEPORTS_CHAIN = 'KUBE-NODEPORTS';
/** kube-proxy's nat chain that masquerades marked packets. */
export const KUBE_POSTROUTING_CHAIN = 'KUBE-POSTROUTING';
/** kube-proxy's chain that marks packets for masquerading. */
export const KUBE_MARK_MASQ_CHAIN = 'KUBE-MARK-MASQ';
/** kube-proxy's filter chain for forwarded service traffic. */
export const KUBE_FORWARD_CHAIN = 'KUBE-FORWARD';
/** kube-proxy's filter chain of load balancer source ranges. */
export const KUBE_PROXY_FIREWALL_CHAIN = 'KUBE-PROXY-FIREWALL';
/** The chain kube-proxy watches to notice its rules were flushed. */
export const KUBE_PROXY_CANARY_CHAIN = 'KUBE-PROXY-CANARY';
/** The kubelet's filter chain that drops martian localhost traffic. */
export const KUBELET_FIREWALL_CHAIN = 'KUBE-FIREWALL';

/** kube-proxy's default `--iptables-masquerade-bit`. */
export const DEFAULT_MASQUERADE_BIT = 14;

/** `ns/name:port` (`ns/name` when the port is unnamed): upstream's ServicePortName.String(). */
export function servicePortName(namespace: string, name: string, portName = ''): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

/** `host:port`, IPv6 hosts in brackets (Go's net.JoinHostPort). */
export function endpointString(ip: string, port: number): string {
  return joinHostPort(ip, port);
}

/** First 16 chars of base32(SHA-256(servicePortName + lowercase protocol)) — no separator. */
export function portProtoHash(servicePortName: string, protocol: string): string {
  return sha256Base32(servicePortName + protocol.toLowerCase()).slice(0, 16);
}

/** `KUBE-SVC-…`: the Cluster-traffic-policy chain of a service port. */
export function servicePortChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-SVL-…`: the Local-traffic-policy chain. */
export function serviceLocalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-EXT-…`: the external-traffic chain (NodePort, LoadBalancer, externalIPs). */
export function serviceExternalChainName(servicePortName: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-FW-…`: the load-balancer source-range firewall chain. */
export function serviceFirewallChainName(servicePortName: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(servicePortName, protocol)}`;
}

/** `KUBE-SEP-…`: an endpoint's chain; `endpoint` is `host:port` (see endpointString). */
export function servicePortEndpointChainName(
  servicePortName: string,
  protocol: string,
  endpoint: string,
): string {
  const hash = sha256Base32(servicePortName + protocol.toLowerCase() + endpoint).slice(0, 16);
  return `KUBE-SEP-${hash}`;
}

/** The masquerade mark for a bit, as a number and as upstream prints it (`0x00004000` for 14). */
export function masqueradeMark(bit = DEFAULT_MASQUERADE_BIT): { value: number; text: string } {
  const value = (1 << bit) >>> 0;
  return { value, text: `0x${value.toString(16).padStart(8, '0')}` };
}
