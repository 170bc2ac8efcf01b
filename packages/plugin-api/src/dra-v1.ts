import type { handleUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { MessageInit } from './message-init';
import { pluginServiceDefinition } from './plugin-services';
import type { PluginMethod } from './service-definition';

// The DRA kubelet plugin API (packages k8s.io.kubelet.pkg.apis.dra.v1 and .v1beta1, the same
// messages): the kubelet asks a driver to prepare a pod's ResourceClaims before its containers
// start and to unprepare them after.

/** One ResourceClaim, as the kubelet names it to the driver. */
export interface Claim {
  namespace: string;
  uid: string;
  name: string;
}

/** NodePrepareResources's request: the claims to prepare. */
export interface NodePrepareResourcesRequest {
  claims: Claim[];
}

/** One device a prepared claim gives the pod's containers. */
export interface DraDevice {
  /** The claim's requests this device serves; empty means all of them. */
  requestNames: string[];
  poolName: string;
  deviceName: string;
  /** The CDI device IDs the runtime injects (`vendor.com/class=name`). */
  cdiDeviceIds: string[];
}

/** One claim's outcome: its devices, or a non-empty error (the devices are then ignored). */
export interface NodePrepareResourceResponse {
  devices: DraDevice[];
  error: string;
}

/** NodePrepareResources's answer by claim UID; a claim missing is prepared again on the next call. */
export interface NodePrepareResourcesResponse {
  claims: Record<string, NodePrepareResourceResponse>;
}

/** NodeUnprepareResources's request: the claims to unprepare. */
export interface NodeUnprepareResourcesRequest {
  claims: Claim[];
}

/** One claim's outcome: a non-empty error means unpreparing failed. */
export interface NodeUnprepareResourceResponse {
  error: string;
}

/** NodeUnprepareResources's answer by claim UID, every claim of the request present. */
export interface NodeUnprepareResourcesResponse {
  claims: Record<string, NodeUnprepareResourceResponse>;
}

/** A DRAPlugin service (v1 or v1beta1) as grpc-js serves and calls it. */
export type DraPluginDefinition = ServiceDefinition & {
  NodePrepareResources: PluginMethod<NodePrepareResourcesRequest, NodePrepareResourcesResponse>;
  NodeUnprepareResources: PluginMethod<NodeUnprepareResourcesRequest, NodeUnprepareResourcesResponse>;
};

/** A DRA driver's handlers of DRAPlugin (v1 or v1beta1), for `server.addService`. */
export interface DraPluginServer extends UntypedServiceImplementation {
  NodePrepareResources: handleUnaryCall<
    NodePrepareResourcesRequest,
    MessageInit<NodePrepareResourcesResponse>
  >;
  NodeUnprepareResources: handleUnaryCall<
    NodeUnprepareResourcesRequest,
    MessageInit<NodeUnprepareResourcesResponse>
  >;
}

/** The full name of the DRA plugin service v1. */
export const DRA_V1_SERVICE = 'k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin';
/** The full name of the DRA plugin service v1beta1. */
export const DRA_V1BETA1_SERVICE = 'k8s.io.kubelet.pkg.apis.dra.v1beta1.DRAPlugin';

/** DRAPlugin v1 (`/k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/NodePrepareResources`...). */
export const draV1Service: DraPluginDefinition =
  /* @__PURE__ */ pluginServiceDefinition<DraPluginDefinition>(DRA_V1_SERVICE);

/** DRAPlugin v1beta1: the same messages under `k8s.io.kubelet.pkg.apis.dra.v1beta1`. */
export const draV1beta1Service: DraPluginDefinition =
  /* @__PURE__ */ pluginServiceDefinition<DraPluginDefinition>(DRA_V1BETA1_SERVICE);
