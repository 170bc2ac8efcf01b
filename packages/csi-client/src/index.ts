// Public surface of @nodeagent/csi-client: the CSI node client, the gRPC service definitions for
// writing a plugin, the typed errors, and (from @nodeagent/plugin-api, re-exported so existing
// imports keep working) the kubelet plugin registration API and the precompiled-codec machinery.

export {
  GET_INFO_TIMEOUT_MS,
  NOTIFY_TIMEOUT_MS,
  type PluginInfo,
  /** The kubelet's side of plugin registration: @nodeagent/plugin-api's RegistrationV1Client. */
  RegistrationV1Client as RegistrationClient,
} from '@nodeagent/plugin-api';
export {
  type FieldInfo,
  type GeneratedFunction,
  grpcServiceDefinition,
  type MessageType,
  type PrecompiledCodec,
  type PrecompiledCodecs,
  precompiledMessageTypes,
  type ServiceMethods,
  TO_OBJECT,
} from '@nodeagent/plugin-api/codec';
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
export { csiWireJson } from './wire-json';
