/**
 * The fields of the protobuf-encoded messages that are pointers (or nil-able bytes) in upstream's
 * Go structs (k8s.io/api and k8s.io/apimachinery v0.36.3 types.go; each checked against its
 * generated.pb.go, where these are the fields behind `if m.X != nil`). gogo's marshallers write
 * such a field only when it is set; every other singular field is written always, its Go zero
 * value ("" / 0 / false / an empty message) when the JSON leaves it out. Repeated fields and maps
 * are written only when non-empty, which needs no table.
 *
 * Keyed by the message's full protobuf name, then by the field's name (its JSON name).
 */
export const GO_POINTER_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta': new Set([
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
  ]),
  'k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta': new Set(['remainingItemCount', 'shardInfo']),
  'k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference': new Set(['controller', 'blockOwnerDeletion']),
  'k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': new Set(['time', 'fieldsV1']),
  'k8s.io.apimachinery.pkg.apis.meta.v1.Status': new Set(['details']),
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1': new Set(['Raw']),
  'k8s.io.apimachinery.pkg.runtime.RawExtension': new Set(['raw']),
  'k8s.io.apimachinery.pkg.runtime.Unknown': new Set(['raw']),
  'k8s.io.api.core.v1.ServiceSpec': new Set([
    'sessionAffinityConfig',
    'ipFamilyPolicy',
    'allocateLoadBalancerNodePorts',
    'loadBalancerClass',
    'internalTrafficPolicy',
    'trafficDistribution',
  ]),
  'k8s.io.api.core.v1.ServicePort': new Set(['appProtocol']),
  'k8s.io.api.core.v1.LoadBalancerIngress': new Set(['ipMode']),
  'k8s.io.api.core.v1.PortStatus': new Set(['error']),
  'k8s.io.api.core.v1.SessionAffinityConfig': new Set(['clientIP']),
  'k8s.io.api.core.v1.ClientIPConfig': new Set(['timeoutSeconds']),
  'k8s.io.api.discovery.v1.Endpoint': new Set(['hostname', 'targetRef', 'nodeName', 'zone', 'hints']),
  'k8s.io.api.discovery.v1.EndpointConditions': new Set(['ready', 'serving', 'terminating']),
  'k8s.io.api.discovery.v1.EndpointPort': new Set(['name', 'protocol', 'port', 'appProtocol']),
};
