import type {
  handleServerStreamingCall,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { MessageInit } from './message-init';
import { pluginServiceDefinition } from './plugin-services';
import type { PluginMethod } from './service-definition';

// The DRA resource health API v1alpha1 (package `v1alpha1`): the kubelet keeps one
// NodeWatchResources stream open per driver and reads each answer as the driver's complete list.

/** NodeWatchResources's request (empty). */
export type NodeWatchResourcesRequest = Record<string, never>;

/** A device's health, by name (the enum HealthStatus). */
export type HealthStatus = 'UNKNOWN' | 'HEALTHY' | 'UNHEALTHY';

/** A device within its driver. */
export interface DeviceIdentifier {
  poolName: string;
  deviceName: string;
}

/** One device's health. */
export interface DeviceHealth {
  device: DeviceIdentifier | null;
  health: HealthStatus;
  /** Unix seconds of when the driver last determined it. */
  lastUpdatedTime: number;
  /** How long this report holds, in seconds; zero or negative: the kubelet's default (30 s). */
  healthCheckTimeoutSeconds?: number;
  /** Details of the device's health, for the container status (the kubelet keeps 1024 characters). */
  message?: string;
}

/** One answer of the stream: every device of the driver; one left out turns Unknown after a timeout. */
export interface NodeWatchResourcesResponse {
  devices: DeviceHealth[];
}

/** `v1alpha1.DRAResourceHealth` as grpc-js serves and calls it. */
export type DraHealthV1alpha1Definition = ServiceDefinition & {
  NodeWatchResources: PluginMethod<NodeWatchResourcesRequest, NodeWatchResourcesResponse>;
};

/** A DRA driver's handler of `v1alpha1.DRAResourceHealth`, for `server.addService`. */
export interface DraHealthV1alpha1Server extends UntypedServiceImplementation {
  NodeWatchResources: handleServerStreamingCall<
    NodeWatchResourcesRequest,
    MessageInit<NodeWatchResourcesResponse>
  >;
}

/** The full name of the DRA resource health service. */
export const DRA_HEALTH_V1ALPHA1_SERVICE = 'v1alpha1.DRAResourceHealth';

/** DRAResourceHealth v1alpha1 (`/v1alpha1.DRAResourceHealth/NodeWatchResources`, server-streaming). */
export const draHealthV1alpha1Service: DraHealthV1alpha1Definition =
  /* @__PURE__ */ pluginServiceDefinition<DraHealthV1alpha1Definition>(DRA_HEALTH_V1ALPHA1_SERVICE);
