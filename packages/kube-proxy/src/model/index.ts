// `@nodeagent/kube-proxy/model`: Services and EndpointSlices as the proxy sees them, change
// tracking and snapshots (the root exports the common part).
export {
  type CategorizedEndpoints,
  categorizeEndpoints,
  LABEL_HOSTNAME,
  LABEL_TOPOLOGY_ZONE,
} from './categorize-endpoints';
export { cidrContains } from './cidr';
export {
  ANNOTATION_LAST_CHANGE_TRIGGER_TIME,
  type EndpointInfo,
  endpointsFromSlice,
  endpointsFromSlices,
  LABEL_SERVICE_NAME,
  lastChangeTriggerTime,
  serviceOfSlice,
} from './endpoint';
export {
  applyEndpointsChanges,
  type EndpointsChange,
  EndpointsChangeTracker,
  type EndpointsCheckout,
  type EndpointsMapUpdate,
} from './endpoints-change-tracker';
export { type IPFamily, ipFamilyOf, joinHostPort } from './ip-family';
export { type ProxySnapshot, ProxyState, snapshotFromObjects } from './proxy-snapshot';
export { retainedService } from './retained-service';
export {
  applyServiceChanges,
  type ServiceChange,
  ServiceChangeTracker,
  type ServiceMapUpdate,
} from './service-change-tracker';
export {
  DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
  externallyAccessible,
  type Protocol,
  type ServicePort,
  type ServicePortName,
  servicePortKey,
  servicePortsFromService,
  shouldSkipService,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from './service-port';
