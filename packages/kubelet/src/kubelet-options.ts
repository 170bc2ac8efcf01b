import type { Clock } from '@nodeagent/primitives';
import type { Taint } from '@nodeagent/primitives/scheduling';
import type { PendingAdmission, PodAdmitHandler } from './admission/admit-handler';
import type { AdmissionNode } from './admission/general-predicates-admit';
import type { PluginResourceAllocations } from './admission/resource-fit-admit';
import type { Container, ResourceList } from './api/pod-types';
import type { PodCgroupManager } from './cgroups/pod-cgroup-manager';
import type { KubeletConfiguration } from './config/kubelet-configuration';
import type { NodeSwapFacts } from './cri/container-swap';
import type { PodRuntime } from './cri/pod-runtime';
import type { UserNamespaceAllocator } from './cri/user-namespaces';
import type { DeviceHealthStatus } from './devicemanager/device-manager';
import type { ResourceClaimApi } from './dra/dra-manager';
import type { DraPluginConnector } from './dra/dra-plugin';
import type { ResourceSliceApi } from './dra/resource-slice-wiper';
import type { ObjectSource } from './env/resolve-env';
import type { ServiceLister } from './env/service-env';
import type { NodeEventRecorder, PodEventMemory, PodEventRecorder } from './events/event-reasons';
import type { ImageCredentialProviders } from './images/credential-provider/image-credential-providers';
import type { ImagePullManager } from './images/image-pull-manager';
import type { ImageService } from './images/image-service';
import type { KubeletLogger } from './kubelet-logger';
import type { KubeletMetrics } from './metrics';
import type { PluginHandler } from './pluginmanager/plugin-handler';
import type { ProbeState } from './probes/probe-state';
import type { FsStats, Summary } from './stats/summary-types';
import type { PodStatusWriter } from './status/status-manager';
import type { CsiDriverWatch } from './volumes/csi/csi-node-allocatable-updater';
import type { ClaimStatusWriter } from './volumes/csi/csi-node-expansion';
import type { CsiNodeInfo } from './volumes/csi/csi-node-info';
import type { CsiNodeInitializer } from './volumes/csi/csi-node-initialization';
import type { CsiTokenRequester } from './volumes/csi/csi-service-account-tokens';
import type { CsiStorageObjects } from './volumes/csi/csi-storage-objects';
import type { Mounter } from './volumes/mounter';
import type { TokenSource } from './volumes/volume-payloads';

/** The node the Kubelet runs on: its identity and the host facts its pods see. */
export interface KubeletNode {
  /** The Node's name (upstream --hostname-override or the host name); pods are bound to it. */
  name: string;
  /** --root-dir. */
  rootDir: string;
  hostIPs: string[];
  /** Node memory capacity in bytes (OOM score of burstable pods). */
  memoryCapacity: number;
  /** Node allocatable until setNodeAllocatable gives the Node's (downward API limits, admission). */
  allocatable?: ResourceList;
  /**
   * The host's swap facts for memorySwap.swapBehavior (cgroup version, swap controller, swap
   * bytes; see withContainerSwap). None: containers get no swap setting.
   */
  swap?: Omit<NodeSwapFacts, 'behavior' | 'memoryCapacity'>;
  /** Contents of KubeletConfiguration.resolvConf (read by the caller). */
  hostResolvConf?: string;
  /** Kernel release for the safe sysctls' kernel-version conditions (default: this host's). */
  kernelRelease?: string;
  /** Whether the host enforces SELinux, for admission and ephemeral containers (default: selinuxfs is mounted). */
  seLinuxEnabled?: boolean;
  /**
   * Refusals upstream does not make, opt-in (default off): SELinux labels on a host without
   * SELinux, Windows-only security options, hostUsers: false at admission (see kubeletAdmitHandlers).
   */
  strictAdmission?: boolean;
  /**
   * The labels the node registers with (--node-labels and the well-known hostname, os and arch
   * ones): admission's NodeAffinity predicate reads them until the API's Node is known (upstream's
   * initialNode, which getNodeAnyWay falls back to). Default none.
   */
  labels?: Record<string, string>;
  /** The taints the node registers with (registerWithTaints), for admission's NoExecute check until then. */
  taints?: Taint[];
}

/** What the Kubelet reads from and reports to the cluster; each omitted one turns its feature off. */
export interface KubeletApi {
  /** The Node as the API server last served it (labels, taints), for admission's general predicates. */
  node?: () => AdmissionNode | undefined;
  /** configMaps and secrets for env and volumes; without an API server, nothing is found. */
  objects?: ObjectSource;
  /** Services for the `<SVC>_SERVICE_HOST`… variables (e.g. ApiServiceLister); none without. */
  services?: ServiceLister;
  tokens?: TokenSource;
  /** Pod status sink; omit in standalone mode. */
  statusWriter?: PodStatusWriter;
  /** Pod events (upstream's recorder), e.g. a pod refused at admission; default: logged only. */
  recordEvent?: PodEventRecorder;
  /** Node events (upstream's nodeRef events), e.g. Starting; default: none. */
  recordNodeEvent?: NodeEventRecorder;
  /** The recorder's memory of its events, told of each pod the kubelet removed (an ApiEventSink is one). */
  podEventMemory?: PodEventMemory;
  /** A RuntimeClass's CRI handler (e.g. runtimeClassHandlerLookup over the API); default: '' for every pod. */
  runtimeHandler?: (runtimeClassName: string | undefined) => Promise<string>;
  /**
   * CSI through the API (apiCsiNodeInfo, apiCsiStorageObjects): registered drivers written to the
   * CSINode and the Node's labels, and pods' inline CSI volumes and claims mounted through them.
   * None: drivers still register with the plugin manager, nothing is written, and a CSI volume
   * waits as for a driver that never registered.
   */
  csi?: {
    nodeInfo: CsiNodeInfo & CsiNodeInitializer;
    /** The CSIDriver objects as a watch keeps them, for drivers' nodeAllocatableUpdatePeriodSeconds. */
    driverWatch?: CsiDriverWatch;
    objects: CsiStorageObjects;
    tokens?: CsiTokenRequester;
    claimStatus?: ClaimStatusWriter;
  };
  /**
   * @internal Dynamic resource allocation (resource.k8s.io/v1): the ResourceClaims pods use, the node's
   * ResourceSlices wiped when a driver is gone, and how a registered driver is called. Without
   * it a pod with resourceClaims waits: its claims cannot be read.
   */
  dra?: KubeletDraApi;
}

/** @internal What the kubelet's DRA manager reads and calls (KubeletApi.dra). */
export interface KubeletDraApi {
  claims: ResourceClaimApi;
  slices?: ResourceSliceApi;
  /** Opens the connection to a registered DRA plugin (default: gRPC over its endpoint). */
  connector?: DraPluginConnector;
}

/** Image credentials, verified pulls and image GC. */
export interface KubeletImages {
  /** --image-credential-provider-config plugins; their credentials follow the pull secrets'. */
  credentialProviders?: ImageCredentialProviders;
  /**
   * Verified image pulls (KEP-2535; imagePullManagerFromConfig builds it from the configuration):
   * without it a present image is used by any pod, as before the feature.
   */
  pullManager?: ImagePullManager;
  /** CRI image service and image filesystem figures: enable image GC. */
  service?: ImageService;
  /** Reads the image filesystem's capacity and usage (bytes); with `service` it turns on image GC. */
  fs?: () => Promise<FsStats | undefined>;
}

/** Probe results from outside (tests, a probe manager of the caller's); default: the Kubelet's own prober. */
export interface KubeletProbes {
  /** Readiness of a running container; containers without a readiness probe are ready. */
  readiness?: (containerId: string, container: Container) => boolean;
  /** Whether a running container's startup probe has succeeded (the `started` field); containers without one have started. */
  startup?: (containerId: string, container: Container) => boolean;
  state?: ProbeState;
}

/** The Kubelet's clock, periods and start pacing. */
export interface KubeletPacing {
  clock?: Clock;
  /** PLEG relist period (upstream 1 s). */
  relistPeriodMs?: number;
  /** Retry delay after a failed sync (upstream ~10 s). */
  retryMs?: number;
  /** Eviction monitoring period (upstream 10 s). */
  evictionMonitoringPeriodMs?: number;
  /** Waits `ms` milliseconds for the `sleep` lifecycle hook action (default: a timer on `clock`); tests inject a fake. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How many sandbox or container starts may run against the runtime at once, across pods.
   * Default unbounded, as upstream; a bound makes a burst of pods come up one after another
   * instead of all near the end (lower p50, somewhat later last pod). Not an upstream setting.
   */
  maxParallelPodStarts?: number;
  /** The deadline of each CSI driver call (upstream's csiTimeout, 2 min); tests shorten it. */
  csiTimeoutMs?: number;
}

/**
 * What a {@link Kubelet} is built from: the node, its configuration, the CRI runtime, and
 * optional seams grouped by what they serve (API, images, probes, stats, cgroups, pacing). Only
 * `node`, `runtime` and `config` are required; every omitted seam turns its feature off as
 * described on it (standalone mode needs none of them).
 */
export interface KubeletOptions {
  node: KubeletNode;
  /** The runtime as it talks CRI (criRuntimeStack's); the Kubelet adds the pod layers (podRuntimeStack). */
  runtime: PodRuntime;
  /** The runtime's name in container IDs (`containerd://…`; default containerd). */
  runtimeType?: string;
  config: KubeletConfiguration;
  api?: KubeletApi;
  images?: KubeletImages;
  probes?: KubeletProbes;
  /** Stats summary (e.g. CriSummaryProvider): enables the eviction manager and pressure conditions. */
  stats?: {
    /** A fresh /stats/summary sample of the node and its pods. */
    summary(): Promise<Summary>;
  };
  /** QoS/pod cgroups (cgroupsPerQOS): pods get pod<uid> cgroups as their sandbox cgroup parent. */
  cgroups?: PodCgroupManager;
  /**
   * Per-pod user namespace ID ranges for hostUsers: false (userNamespaces.idsPerPod); a pod's
   * range is freed when the pod is removed. None: such pods' sandboxes fail.
   */
  userNamespaces?: UserNamespaceAllocator;
  pacing?: KubeletPacing;
  /** Resource allocation at admission (cpuManagerAdmitHandler): a refusal fails the pod with its reason. */
  allocateResources?: PodAdmitHandler;
  /** Admission's asynchronous end (the DeviceManager's plugin calls for what allocateResources reserved). */
  pendingAdmission?: PendingAdmission;
  /** The DeviceManager's devices given out, by resource (the resource fit counts allocatable at least that). */
  pluginResources?: PluginResourceAllocations;
  /** The DeviceManager: container statuses carry their devices' health (while the ResourceHealthStatus gate is on). */
  deviceHealth?: DeviceHealthStatus;
  /** The DeviceManager's plugin watcher handler: device plugins registering in plugins_registry. */
  devicePlugins?: PluginHandler;
  /** The node shutdown manager's admission (NodeShutdownManager): no new pods while the node shuts down. */
  nodeShutdownAdmission?: PodAdmitHandler;
  metrics?: KubeletMetrics;
  mounter?: Mounter;
  logger?: KubeletLogger;
}
