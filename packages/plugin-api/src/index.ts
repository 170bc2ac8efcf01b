// Public surface of @nodeagent/plugin-api: the plugin registration API v1 and the DRA APIs (v1,
// v1beta1, health v1alpha1) as typed messages and grpc-js service definitions over precompiled
// codecs. The device plugin and pod-resources APIs are at ./deviceplugin and ./podresources, the
// codec machinery for packages with .proto files of their own at ./codec.

export {
  type DeviceHealth,
  type DeviceIdentifier,
  DRA_HEALTH_V1ALPHA1_SERVICE,
  type DraHealthV1alpha1Definition,
  type DraHealthV1alpha1Server,
  draHealthV1alpha1Service,
  type HealthStatus,
  type NodeWatchResourcesRequest,
  type NodeWatchResourcesResponse,
} from './dra-health-v1alpha1';
export {
  type Claim,
  DRA_V1_SERVICE,
  DRA_V1BETA1_SERVICE,
  type DraDevice,
  type DraPluginDefinition,
  type DraPluginServer,
  draV1beta1Service,
  draV1Service,
  type NodePrepareResourceResponse,
  type NodePrepareResourcesRequest,
  type NodePrepareResourcesResponse,
  type NodeUnprepareResourceResponse,
  type NodeUnprepareResourcesRequest,
  type NodeUnprepareResourcesResponse,
} from './dra-v1';
export type { MessageInit } from './message-init';
export { isPluginApiError, PluginApiError, type PluginApiErrorCode } from './plugin-api-error';
export { isPluginCallError, PluginCallError } from './plugin-call-error';
export { PluginConnection } from './plugin-connection';
export {
  messageCodec,
  pluginMessageType,
  pluginServiceDefinition,
  pluginServiceNames,
} from './plugin-services';
export {
  type InfoRequest,
  type PluginInfo,
  REGISTRATION_V1_SERVICE,
  type RegistrationStatus,
  type RegistrationStatusResponse,
  type RegistrationV1Definition,
  type RegistrationV1Server,
  registrationV1Service,
} from './registration-v1';
export { GET_INFO_TIMEOUT_MS, NOTIFY_TIMEOUT_MS, RegistrationV1Client } from './registration-v1-client';
export type { MessageCodec, PluginMethod } from './service-definition';
