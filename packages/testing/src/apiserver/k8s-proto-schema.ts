import protobuf from 'protobufjs';

/*
 * The protobuf messages the in-process API server encodes (Services, EndpointSlices, their
 * lists, watch events and Status), with upstream v1.36's field names and numbers: k8s.io/api
 * and k8s.io/apimachinery v0.36.3's generated.proto, comments dropped, each message's fields in
 * field-number order, the order Go's generated marshallers write them in.
 */
const PACKAGES: readonly { package: string; messages: string }[] = [
  {
    package: 'k8s.io.apimachinery.pkg.apis.meta.v1',
    messages: `
message Condition {
  optional string type = 1;
  optional string status = 2;
  optional int64 observedGeneration = 3;
  optional Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}
message FieldsV1 {
  optional bytes Raw = 1;
}
message ListMeta {
  optional string selfLink = 1;
  optional string resourceVersion = 2;
  optional string continue = 3;
  optional int64 remainingItemCount = 4;
  optional ShardInfo shardInfo = 5;
}
message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4;
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional string subresource = 8;
}
message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10;
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}
message OwnerReference {
  optional string kind = 1;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional bool controller = 6;
  optional bool blockOwnerDeletion = 7;
}
message ShardInfo {
  optional string selector = 1;
}
message Status {
  optional ListMeta metadata = 1;
  optional string status = 2;
  optional string message = 3;
  optional string reason = 4;
  optional StatusDetails details = 5;
  optional int32 code = 6;
}
message StatusCause {
  optional string reason = 1;
  optional string message = 2;
  optional string field = 3;
}
message StatusDetails {
  optional string name = 1;
  optional string group = 2;
  optional string kind = 3;
  repeated StatusCause causes = 4;
  optional int32 retryAfterSeconds = 5;
  optional string uid = 6;
}
message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}
message WatchEvent {
  optional string type = 1;
  optional .k8s.io.apimachinery.pkg.runtime.RawExtension object = 2;
}
`,
  },
  {
    package: 'k8s.io.apimachinery.pkg.runtime',
    messages: `
message RawExtension {
  optional bytes raw = 1;
}
message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}
message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}
`,
  },
  {
    package: 'k8s.io.apimachinery.pkg.util.intstr',
    messages: `
message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
`,
  },
  {
    package: 'k8s.io.api.core.v1',
    messages: `
message ClientIPConfig {
  optional int32 timeoutSeconds = 1;
}
message LoadBalancerIngress {
  optional string ip = 1;
  optional string hostname = 2;
  optional string ipMode = 3;
  repeated PortStatus ports = 4;
}
message LoadBalancerStatus {
  repeated LoadBalancerIngress ingress = 1;
}
message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}
message PortStatus {
  optional int32 port = 1;
  optional string protocol = 2;
  optional string error = 3;
}
message Service {
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ServiceSpec spec = 2;
  optional ServiceStatus status = 3;
}
message ServiceList {
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated Service items = 2;
}
message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional int32 port = 3;
  optional .k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4;
  optional int32 nodePort = 5;
  optional string appProtocol = 6;
}
message ServiceSpec {
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  optional SessionAffinityConfig sessionAffinityConfig = 14;
  optional string ipFamilyPolicy = 17;
  repeated string clusterIPs = 18;
  repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20;
  optional string loadBalancerClass = 21;
  optional string internalTrafficPolicy = 22;
  optional string trafficDistribution = 23;
}
message ServiceStatus {
  optional LoadBalancerStatus loadBalancer = 1;
  repeated .k8s.io.apimachinery.pkg.apis.meta.v1.Condition conditions = 2;
}
message SessionAffinityConfig {
  optional ClientIPConfig clientIP = 1;
}
`,
  },
  {
    package: 'k8s.io.api.discovery.v1',
    messages: `
message Endpoint {
  repeated string addresses = 1;
  optional EndpointConditions conditions = 2;
  optional string hostname = 3;
  optional .k8s.io.api.core.v1.ObjectReference targetRef = 4;
  map<string, string> deprecatedTopology = 5;
  optional string nodeName = 6;
  optional string zone = 7;
  optional EndpointHints hints = 8;
}
message EndpointConditions {
  optional bool ready = 1;
  optional bool serving = 2;
  optional bool terminating = 3;
}
message EndpointHints {
  repeated ForZone forZones = 1;
  repeated ForNode forNodes = 2;
}
message EndpointPort {
  optional string name = 1;
  optional string protocol = 2;
  optional int32 port = 3;
  optional string appProtocol = 4;
}
message EndpointSlice {
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  repeated Endpoint endpoints = 2;
  repeated EndpointPort ports = 3;
  optional string addressType = 4;
}
message EndpointSliceList {
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ListMeta metadata = 1;
  repeated EndpointSlice items = 2;
}
message ForNode {
  optional string name = 1;
}
message ForZone {
  optional string name = 1;
}
`,
  },
];

let root: protobuf.Root | undefined;

/** The messages above, resolved (built once, on first use). */
export function k8sProtobufRoot(): protobuf.Root {
  if (!root) {
    const r = new protobuf.Root();
    for (const p of PACKAGES) protobuf.parse(`syntax = "proto2";\npackage ${p.package};\n${p.messages}`, r);
    // resolveAll() resolves in place; its declared return type is Namespace, not Root.
    r.resolveAll();
    root = r;
  }
  return root;
}

/** One message type by its full name, e.g. `k8s.io.api.discovery.v1.EndpointSlice`. */
export function k8sProtobufType(fullName: string): protobuf.Type {
  return k8sProtobufRoot().lookupType(fullName);
}
