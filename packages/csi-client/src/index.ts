// Public surface of @nodeagent/csi-client: the CSI node client, the kubelet plugin registration
// API (both sides), the gRPC service definitions for writing a plugin, and the typed errors.

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
export {
  csiServiceDefinition,
  type PluginServer,
  registrationServiceDefinition,
  servePlugin,
} from './plugin-server';
export {
  GET_INFO_TIMEOUT_MS,
  NOTIFY_TIMEOUT_MS,
  type PluginInfo,
  RegistrationClient,
} from './registration-client';
export { csiWireJson } from './wire-json';
