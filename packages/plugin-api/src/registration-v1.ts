import type { handleUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MessageInit } from './message-init';
import { pluginServiceDefinition } from './plugin-services';
import type { PluginMethod } from './service-definition';

// The plugin registration API v1 (package `pluginregistration`): a plugin serves it on a socket
// under <root-dir>/plugins_registry; the kubelet calls GetInfo, then NotifyRegistrationStatus.

/** GetInfo's request (empty). */
export type InfoRequest = Record<string, never>;

/** What a plugin tells the kubelet about itself. */
export interface PluginInfo {
  /** `CSIPlugin`, `DRAPlugin`. */
  type: string;
  name: string;
  /** The plugin's service socket; empty means the registration socket itself. */
  endpoint: string;
  /** CSI: `1.0.0`; DRA: the services, `v1.DRAPlugin`, `v1beta1.DRAPlugin`, `v1alpha1.DRAResourceHealth`. */
  supportedVersions: string[];
}

/** The kubelet's verdict on a registration. */
export interface RegistrationStatus {
  pluginRegistered: boolean;
  /** Why not, when not registered. */
  error: string;
}

/** NotifyRegistrationStatus's answer (empty). */
export type RegistrationStatusResponse = Record<string, never>;

/** `pluginregistration.Registration` as grpc-js serves and calls it. */
export type RegistrationV1Definition = ServiceDefinition & {
  GetInfo: PluginMethod<InfoRequest, PluginInfo>;
  NotifyRegistrationStatus: PluginMethod<RegistrationStatus, RegistrationStatusResponse>;
};

/** A plugin's handlers of `pluginregistration.Registration`, for `server.addService`. */
export interface RegistrationV1Server extends UntypedServiceImplementation {
  GetInfo: handleUnaryCall<InfoRequest, MessageInit<PluginInfo>>;
  NotifyRegistrationStatus: handleUnaryCall<RegistrationStatus, MessageInit<RegistrationStatusResponse>>;
}

/** The full name of the plugin registration service. */
export const REGISTRATION_V1_SERVICE = 'pluginregistration.Registration';

/** The plugin registration service v1 (`/pluginregistration.Registration/GetInfo`...). */
export const registrationV1Service: RegistrationV1Definition =
  /* @__PURE__ */ pluginServiceDefinition<RegistrationV1Definition>(REGISTRATION_V1_SERVICE);
