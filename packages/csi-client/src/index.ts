// Public surface of @nodeagent/csi-client: the CSI node client, the kubelet plugin registration
// API (both sides), the gRPC service definitions for writing a plugin, the typed errors, and the
// precompiled-codec machinery the kubelet's other node-plugin APIs reuse.

export {
  CsiError,
  InvalidCsiArgumentError,
  isCsiError,
  PluginTimeoutError,
  PluginUnreachableError,
} from './csi-error';
export { CSI_TIMEOUT_MS, CsiNodeClient, type CsiNodeClientOptions } from './csi-node-client';
export type {
  AccessModeName,
  GetPluginInfoResponse,
  NodeCapabilityName,
  NodeExpandVolumeRequest,
  NodeGetInfoResponse,
  NodeGetVolumeStatsRequest,
  NodeGetVolumeStatsResponse,
  NodePublishVolumeRequest,
  NodeStageVolumeRequest,
  NodeUnpublishVolumeRequest,
  NodeUnstageVolumeRequest,
  PluginCapability,
  VolumeCapability,
  VolumeUsage,
} from './csi-types';
export { pluginTarget } from './endpoint';
export { type MessageType, precompiledMessageTypes } from './message-type';
export {
  csiServiceDefinition,
  type PluginServer,
  registrationServiceDefinition,
  servePlugin,
} from './plugin-server';
export type { FieldInfo, GeneratedFunction, PrecompiledCodec, PrecompiledCodecs } from './precompiled-codec';
export {
  GET_INFO_TIMEOUT_MS,
  NOTIFY_TIMEOUT_MS,
  type PluginInfo,
  RegistrationClient,
} from './registration-client';
export { grpcServiceDefinition, type ServiceMethods, TO_OBJECT } from './service-definition';
export { csiWireJson } from './wire-json';
