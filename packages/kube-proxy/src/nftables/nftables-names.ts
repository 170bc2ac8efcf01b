// Object names in the kube-proxy table. Upstream's (pkg/proxy/nftables) where the concept is
// the same; the endpoint maps and the per-count chains are ours: they replace upstream's
// per-service and per-endpoint chains for Services without session affinity.

/** kube-proxy's table name in both the `ip` and `ip6` families. */
export const NFTABLES_TABLE = 'kube-proxy';

export const FILTER_PREROUTING = 'filter-prerouting';
export const FILTER_INPUT = 'filter-input';
export const FILTER_FORWARD = 'filter-forward';
export const FILTER_OUTPUT = 'filter-output';
export const FILTER_OUTPUT_POST_DNAT = 'filter-output-post-dnat';
export const NAT_PREROUTING = 'nat-prerouting';
export const NAT_OUTPUT = 'nat-output';
export const NAT_POSTROUTING = 'nat-postrouting';
export const SERVICES = 'services';
export const MASQUERADING = 'masquerading';
export const MARK_MASQ = 'mark-for-masquerade';
export const NODEPORTS = 'nodeports';
export const CLUSTER_IPS_CHECK = 'cluster-ips-check';
export const SERVICE_ENDPOINTS_CHECK = 'service-endpoints-check';
export const NODEPORT_ENDPOINTS_CHECK = 'nodeport-endpoints-check';
export const FIREWALL_CHECK = 'firewall-check';
export const REJECT_CHAIN = 'reject-chain';
export const CLUSTER_IPS_SET = 'cluster-ips';
export const NODEPORT_IPS_SET = 'nodeport-ips';
export const NO_ENDPOINT_SERVICES = 'no-endpoint-services';
export const NO_ENDPOINT_NODEPORTS = 'no-endpoint-nodeports';
export const FIREWALL_IPS = 'firewall-ips';
export const SERVICE_IPS = 'service-ips';
export const SERVICE_NODEPORTS = 'service-nodeports';

/** `endpoint IP . endpoint IP`: hairpin traffic (a pod reaching itself through a Service) is masqueraded. */
export const ENDPOINT_HAIRPIN_SET = 'endpoint-hairpin';

/** Which endpoints a selection picks from: the Cluster-policy set or this node's (Local policy). */
export type EndpointSetKind = 'cluster' | 'local';

/**
 * Transport protocols a Service port can have. The endpoint maps and the chains DNATing through
 * them exist once per protocol: the map value's port is typed with the protocol's own `dport`
 * (see base-ruleset.ts), which makes nft match that protocol in every rule using the map.
 */
export const SERVICE_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export type ServiceProtocol = (typeof SERVICE_PROTOCOLS)[number];

/** TCP's objects keep the unprefixed names they had before the per-protocol split. */
function protocolPrefix(protocol: ServiceProtocol): string {
  return protocol === 'tcp' ? '' : `${protocol}-`;
}

/**
 * The endpoint map: `destination IP . protocol . port . slot` → `endpoint IP . port` for traffic
 * to a ClusterIP, external IP or load-balancer IP; `protocol . node port . slot` → endpoint for
 * NodePort traffic (whose destination is any local address). One per protocol.
 */
export function endpointMapName(kind: EndpointSetKind, nodePort: boolean, protocol: ServiceProtocol): string {
  return `${protocolPrefix(protocol)}${nodePort ? 'nodeport' : 'service'}-${kind}-endpoints`;
}

/** Chain DNATing to one of `count` endpoints of the kind through the protocol's endpoint map. */
export function endpointSelectChainName(
  kind: EndpointSetKind,
  nodePort: boolean,
  count: number,
  protocol: ServiceProtocol,
): string {
  return `${protocolPrefix(protocol)}${nodePort ? 'nodeport-' : ''}${kind}-endpoints-${count}`;
}

/** External traffic with externalTrafficPolicy Cluster: masquerade, then one of `count` cluster endpoints. */
export function externalChainName(nodePort: boolean, count: number, protocol: ServiceProtocol): string {
  return `${protocolPrefix(protocol)}${nodePort ? 'nodeport-' : ''}external-${count}`;
}

/** External traffic with externalTrafficPolicy Local over `cluster` cluster and `local` local endpoints. */
export function externalLocalChainName(
  nodePort: boolean,
  cluster: number,
  local: number,
  protocol: ServiceProtocol,
): string {
  return `${protocolPrefix(protocol)}${nodePort ? 'nodeport-' : ''}external-local-${cluster}-${local}`;
}
