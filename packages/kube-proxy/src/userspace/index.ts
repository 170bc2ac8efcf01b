// `@nodeagent/kube-proxy/userspace`: the userspace mode.
export { buildPortalRuleset, type PortalTarget } from './build-portal-rules';
export { cleanupPortalRules } from './cleanup-portal-rules';
export { ListenError, UnsupportedProtocolError } from './errors';
export {
  KUBE_NODEPORT_CONTAINER,
  KUBE_NODEPORT_HOST,
  KUBE_PORTALS_CONTAINER,
  KUBE_PORTALS_HOST,
  USERSPACE_CHAINS,
  USERSPACE_JUMP_RULES,
  type UserspaceJumpRule,
} from './portal-chains';
export { portalIptablesFor } from './portal-iptables';
export {
  ProxyPortAllocator,
  type ProxyPortRange,
  parseProxyPortRange,
} from './proxy-port-range';
export { type BalancerEndpoint, RoundRobinBalancer } from './round-robin-balancer';
export type { ListenAddress, ServiceProxy, ServiceProxyOptions } from './service-proxy';
export { TcpServiceProxy } from './tcp-service-proxy';
export { UdpServiceProxy } from './udp-service-proxy';
export { UserspaceMetrics } from './userspace-metrics';
export { type UserspaceConfigOptions, userspaceOptionsFromConfig } from './userspace-options-from-config';
export {
  DEFAULT_DIAL_TIMEOUTS_MS,
  DEFAULT_MAX_CONNECTIONS_PER_SERVICE,
  DEFAULT_UDP_IDLE_TIMEOUT_MS,
  type PortalIptables,
  UserspaceProxier,
  type UserspaceProxierOptions,
} from './userspace-proxier';
