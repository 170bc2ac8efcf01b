// Public surface of @nodeagent/testing: test doubles and helpers for node-agent tests. The root
// holds what most tests use (start an API server or control plane, make network namespaces and
// veth pairs); everything else is at `@nodeagent/testing/apiserver` and `@nodeagent/testing/netns`.

/** A process's resident anonymous memory by the kind of mapping: glibc's heaps, V8's pages, the rest. */
export { type AnonMappings, anonMappings, readAnonMappings } from './anon-mappings';
export {
  ApiError,
  type ApiServer,
  type ApiServerOptions,
  addServiceCluster,
  type ControlPlane,
  type ControlPlaneOptions,
  type KubeObject,
  kubeconfigYaml,
  type ServiceClusterShape,
  startApiServer,
  startControlPlane,
} from './apiserver/index';
/** Memory of a process as its own memory cgroup is charged (usage, working set, anon, file), with PSS and VmRSS. */
export * as cgroupMemory from './cgroup-memory';
/** A device plugin (v1beta1, real gRPC over unix sockets) shaped after upstream's sample device plugin. */
export {
  type SampleAllocateExtras,
  type SampleDevice,
  SampleDevicePlugin,
  type SampleDevicePluginOptions,
} from './deviceplugin/sample-device-plugin';
export {
  addRoute,
  assertNoHostLeaks,
  bridgeIntoNetns,
  type CreateNetnsOptions,
  cleanupStaleNetns,
  createNetns,
  createVethPair,
  deleteNetns,
  enableForwarding,
  HostLeakError,
  InvalidNetnsNameError,
  listNetns,
  type Netns,
  NetnsScope,
  type NetnsTcpBridge,
  netnsExists,
  openNetns,
  takeHostSnapshot,
  uniqueIfName,
  uniqueNetnsName,
  type VethEnd,
  type VethPair,
  withNetns,
  withNetnsScope,
} from './netns/index';
/** A client of the kubelet's pod-resources API v1, and its answers in the recorded format. */
export {
  formatPodResourcesAnswers,
  PodResourcesClient,
  type PodResourcesContainer,
  type PodResourcesDevices,
  type PodResourcesPod,
} from './podresources/podresources-client';
/** Memory and CPU of another process (RSS from /proc, V8 heap via a preload), for RSS benchmarks. */
export * as processMemory from './process-memory';
/** A TCP relay that counts a client's connections and can make them hang, as a peer gone without a FIN. */
export { startTcpRelay, type TcpRelay } from './tcp-relay';
