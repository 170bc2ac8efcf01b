import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { NodeAffinityPod, Toleration } from '@nodeagent/primitives/scheduling';

/**
 * The subset of the core/v1 Pod object the kubelet reads and writes, in its JSON shape (times
 * are RFC 3339 strings, as they arrive from the API server or a manifest file).
 */

/**
 * core/v1 ObjectMeta as JSON: client-node's fields (one definition of the shape), with the times
 * as the RFC 3339 strings the wire carries instead of the `Date`s client-node's serializer makes.
 */
export type ObjectMeta = Omit<V1ObjectMeta, 'creationTimestamp' | 'deletionTimestamp' | 'managedFields'> & {
  creationTimestamp?: string;
  deletionTimestamp?: string;
};

/**
 * Resource name to quantity, e.g. `{ cpu: '500m', memory: '1Gi' }` (Kubernetes quantity strings; a number is a
 * plain count of the base unit: cores, bytes).
 */
export type ResourceList = Record<string, string | number>;

/**
 * Requests and limits of a container or pod (core/v1 ResourceRequirements): requests decide the QoS class and
 * admission, limits become cgroup limits.
 */
export interface ResourceRequirements {
  limits?: ResourceList;
  requests?: ResourceList;
  /** The pod's ResourceClaims (spec.resourceClaims names) a container uses, optionally one request of each (DRA). */
  claims?: { name: string; request?: string }[];
}

/** One entry of spec.resourceClaims: a ResourceClaim by name, or one made for the pod from a template (DRA). */
export interface PodResourceClaim {
  name: string;
  resourceClaimName?: string;
  resourceClaimTemplateName?: string;
}

/**
 * Picks a field of the pod itself, e.g. `metadata.name` or `status.podIP`, for an env var or a downward API file
 * (core/v1 ObjectFieldSelector).
 */
export interface ObjectFieldSelector {
  apiVersion?: string;
  fieldPath: string;
}

/**
 * Picks a container's request or limit, e.g. `limits.memory`, divided by `divisor` (1 when unset), for an env var
 * or a downward API file.
 */
export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

/**
 * One key of a ConfigMap or Secret in the pod's namespace (core/v1 ConfigMapKeySelector / SecretKeySelector); with
 * `optional` a missing object or key leaves the variable unset instead of failing the start.
 */
export interface KeySelector {
  name?: string;
  key: string;
  optional?: boolean;
}

/**
 * Where an env var's value comes from when it is not given literally; exactly one field is set (core/v1
 * EnvVarSource).
 */
export interface EnvVarSource {
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  configMapKeyRef?: KeySelector;
  secretKeyRef?: KeySelector;
  /** EnvFiles (beta, on in v1.36): a key of an env file in one of the pod's emptyDir volumes. */
  fileKeyRef?: FileKeySelector;
}

/**
 * A container-level restartPolicy: on an init container `Always` makes it a sidecar; on a regular container it
 * overrides the pod's restartPolicy (ContainerRestartRules).
 */
export type ContainerRestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** One container restart rule: on an exit code matching `exitCodes`, take `action`. */
export interface ContainerRestartRule {
  /** "Restart" restarts the container; "RestartAllContainers" restarts every init and regular container in place. */
  action: string;
  /** operator In or NotIn (another value never matches). */
  exitCodes?: { operator: string; values?: number[] };
}

/**
 * One key of an env file (`KEY=value` lines) that an init container wrote into one of the pod's emptyDir volumes
 * (EnvFiles feature, core/v1 FileKeySelector).
 */
export interface FileKeySelector {
  volumeName: string;
  /** Relative to the volume's root. */
  path: string;
  key: string;
  optional?: boolean;
}

/**
 * One environment variable of a container; `$(NAME)` references in `value` are expanded from the variables defined
 * before it.
 */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/**
 * Imports every key of a ConfigMap or Secret as environment variables, each name prefixed with `prefix` (core/v1
 * EnvFromSource).
 */
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

/**
 * A port the container listens on (core/v1 ContainerPort); `hostPort` also exposes it on that port of the node,
 * `protocol` defaults to TCP.
 */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/**
 * Where one of the pod's volumes appears inside a container (core/v1 VolumeMount); `name` refers to an entry of the
 * pod's `volumes`.
 */
export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  subPath?: string;
  /** Like subPath, with $(VAR) expanded from the container's environment. */
  subPathExpr?: string;
  mountPropagation?: 'None' | 'HostToContainer' | 'Bidirectional';
  recursiveReadOnly?: 'Disabled' | 'IfPossible' | 'Enabled';
}

/** Runs `command` inside the container, without a shell; exit code 0 counts as success (core/v1 ExecAction). */
export interface ExecAction {
  command?: string[];
}

/**
 * An HTTP GET to the pod's IP (or `host`) on `port`, a number or a named container port; status 200 to 399 counts
 * as success (core/v1 HTTPGetAction).
 */
export interface HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
}

/**
 * One action of a postStart or preStop hook: exactly one of exec, httpGet, tcpSocket or sleep (core/v1
 * LifecycleHandler).
 */
export interface LifecycleHandler {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  sleep?: { seconds: number };
}

/**
 * A liveness, readiness or startup probe: its action plus timings in seconds. The API server fills unset fields
 * (periodSeconds 10, timeoutSeconds 1, successThreshold 1, failureThreshold 3); the prober uses the same values for
 * a field left unset, e.g. in a static pod.
 */
export interface Probe extends LifecycleHandler {
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

/**
 * Container-level security settings (core/v1 SecurityContext); a field set here overrides the same field of the
 * pod's PodSecurityContext.
 */
export interface SecurityContext {
  privileged?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seLinuxOptions?: SELinuxOptions;
  windowsOptions?: WindowsSecurityContextOptions;
  procMount?: 'Default' | 'Unmasked';
  seccompProfile?: SeccompProfile;
  appArmorProfile?: AppArmorProfile;
}

/**
 * The SELinux label (user, role, type, level) for a container's processes and, with seLinuxChangePolicy
 * MountOption, its volumes.
 */
export interface SELinuxOptions {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

/**
 * Windows-only security settings (core/v1 WindowsSecurityContextOptions), part of the pod shape; a Linux node does
 * not use them.
 */
export interface WindowsSecurityContextOptions {
  gmsaCredentialSpecName?: string;
  gmsaCredentialSpec?: string;
  runAsUserName?: string;
  hostProcess?: boolean;
}

/**
 * The seccomp filter for a container or every container of a pod: the runtime's default, none, or a profile file on
 * the node.
 */
export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Path of the profile file relative to <root-dir>/seccomp (type Localhost only). */
  localhostProfile?: string;
}

/**
 * The AppArmor profile for a container or every container of a pod: the runtime's default, none, or a profile
 * already loaded on the node.
 */
export interface AppArmorProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Name of a profile loaded on the node (type Localhost only). */
  localhostProfile?: string;
}

/**
 * Pod-level security settings (core/v1 PodSecurityContext), applied to every container that does not set its own;
 * fsGroup and supplementalGroups also decide volume file ownership and group membership.
 */
export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  fsGroupChangePolicy?: 'OnRootMismatch' | 'Always';
  supplementalGroups?: number[];
  supplementalGroupsPolicy?: 'Merge' | 'Strict';
  sysctls?: { name: string; value: string }[];
  seLinuxOptions?: SELinuxOptions;
  seLinuxChangePolicy?: 'Recursive' | 'MountOption';
  windowsOptions?: WindowsSecurityContextOptions;
  seccompProfile?: SeccompProfile;
  appArmorProfile?: AppArmorProfile;
}

/** A container's resizePolicy entry: whether resizing that resource restarts the container. */
export interface ContainerResizePolicy {
  resourceName: 'cpu' | 'memory' | (string & {});
  restartPolicy: 'NotRequired' | 'RestartContainer';
}

/**
 * One container of a pod spec (core/v1 Container): image, command, environment, mounts, probes and resources, as
 * far as the kubelet reads them.
 */
export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  ports?: ContainerPort[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  /** Block volumes (claims with volumeMode: Block) given to the container as devices at devicePath. */
  volumeDevices?: { name: string; devicePath: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
  terminationMessagePath?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * On an init container "Always" makes it a sidecar. On a regular container (ContainerRestartRules,
   * beta on in v1.36) it replaces the pod's restartPolicy for this container.
   */
  restartPolicy?: ContainerRestartPolicy;
  /** Evaluated in order on exit before restartPolicy (ContainerRestartRules); needs restartPolicy set. */
  restartPolicyRules?: ContainerRestartRule[];
  /** How each resource is resized in place (InPlacePodVerticalScaling); absent: NotRequired. */
  resizePolicy?: ContainerResizePolicy[];
  securityContext?: SecurityContext;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

/**
 * Writes one key of a ConfigMap or Secret to `path` inside the volume; `mode` is the file's permission bits (e.g.
 * 0o644), overriding the volume's defaultMode.
 */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** One file of a downwardAPI volume, holding a field of the pod or a resource value of one of its containers. */
export interface DownwardAPIVolumeFile {
  path: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  mode?: number;
}

/**
 * A volume holding a ConfigMap's keys as files (all keys, or only `items`); files get `defaultMode`, 0o644 when
 * unset.
 */
export interface ConfigMapVolumeSource {
  name?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

/**
 * A volume holding a Secret's keys, base64-decoded, as files (all keys, or only `items`); files get `defaultMode`,
 * 0o644 when unset.
 */
export interface SecretVolumeSource {
  secretName?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

/**
 * A bound service account token written into a projected volume at `path`; the kubelet asks the TokenRequest API
 * for it with `audience` and `expirationSeconds` (3600 when unset).
 */
export interface ServiceAccountTokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

/** One source of a projected volume; exactly one field is set and all sources share the volume's directory. */
export interface VolumeProjection {
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIVolumeFile[] };
  serviceAccountToken?: ServiceAccountTokenProjection;
}

/**
 * What must exist at a hostPath volume's path before it is mounted: '' checks nothing, the `...OrCreate` types
 * create a missing directory or file, the others refuse a missing or different object.
 */
export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';

/** core/v1 NFSVolumeSource: an export of an NFS server. */
export interface NFSVolumeSource {
  server: string;
  path: string;
  readOnly?: boolean;
}

/** core/v1 CSIVolumeSource: an inline (ephemeral) volume of a CSI driver. */
export interface CSIVolumeSource {
  driver: string;
  readOnly?: boolean;
  fsType?: string;
  volumeAttributes?: Record<string, string>;
  nodePublishSecretRef?: { name?: string };
}

/**
 * A source this kubelet has no plugin for (volumes/volume-sources.ts says what happens to it);
 * its fields are not read.
 */
export type OpaqueVolumeSource = Record<string, unknown>;

/** A volume of the pod spec: a name plus exactly one source of core/v1's. */
export interface Volume {
  name: string;
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string | number };
  hostPath?: { path: string; type?: HostPathType };
  configMap?: ConfigMapVolumeSource;
  secret?: SecretVolumeSource;
  downwardAPI?: { items?: DownwardAPIVolumeFile[]; defaultMode?: number };
  projected?: { sources?: VolumeProjection[]; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  /** An OCI image (or artifact) mounted read-only (ImageVolume, on by default since v1.35). */
  image?: ImageVolumeSource;
  nfs?: NFSVolumeSource;
  csi?: CSIVolumeSource;
  gcePersistentDisk?: OpaqueVolumeSource;
  awsElasticBlockStore?: OpaqueVolumeSource;
  gitRepo?: OpaqueVolumeSource;
  iscsi?: OpaqueVolumeSource;
  glusterfs?: OpaqueVolumeSource;
  rbd?: OpaqueVolumeSource;
  flexVolume?: OpaqueVolumeSource;
  cinder?: OpaqueVolumeSource;
  cephfs?: OpaqueVolumeSource;
  flocker?: OpaqueVolumeSource;
  fc?: OpaqueVolumeSource;
  azureFile?: OpaqueVolumeSource;
  vsphereVolume?: OpaqueVolumeSource;
  quobyte?: OpaqueVolumeSource;
  azureDisk?: OpaqueVolumeSource;
  photonPersistentDisk?: OpaqueVolumeSource;
  portworxVolume?: OpaqueVolumeSource;
  scaleIO?: OpaqueVolumeSource;
  storageos?: OpaqueVolumeSource;
  ephemeral?: OpaqueVolumeSource;
}

/** core/v1 ImageVolumeSource: which image to mount, and when to pull it (like a container's imagePullPolicy). */
export interface ImageVolumeSource {
  reference?: string;
  pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** The pod's restart policy for its containers (core/v1 RestartPolicy); `Always` when unset. */
export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
/**
 * How the pod's resolv.conf is built: ClusterFirst uses the cluster DNS (the node's resolver for a host-network
 * pod), ClusterFirstWithHostNet uses it even with hostNetwork, Default copies the node's resolver, None takes only
 * dnsConfig.
 */
export type DNSPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

/**
 * Nameservers, search domains and resolver options merged into the pod's resolv.conf on top of what dnsPolicy gives
 * (the only source with dnsPolicy None).
 */
export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/**
 * A pod's desired state (core/v1 PodSpec): its containers, volumes and the settings the kubelet applies when it
 * runs them.
 */
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  activeDeadlineSeconds?: number;
  dnsPolicy?: DNSPolicy;
  dnsConfig?: PodDNSConfig;
  nodeName?: string;
  /** Labels the node must carry (admission's NodeAffinity predicate, as the scheduler's). */
  nodeSelector?: Record<string, string>;
  /** Only the required node affinity is read here (admission's NodeAffinity predicate). */
  affinity?: NonNullable<NodeAffinityPod['spec']>['affinity'];
  /** The taints the pod tolerates (admission's TaintToleration predicate reads the NoExecute ones). */
  tolerations?: Toleration[];
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** One PID namespace for all containers of the pod (upstream PidNamespaceForPod: POD). */
  shareProcessNamespace?: boolean;
  /** false asks for a user namespace of the pod's own. */
  hostUsers?: boolean;
  /** The OS the pod's containers need; admission refuses any other than the node's (linux). */
  os?: { name: string };
  /** A RuntimeClass (CRI runtime handler other than the default); admission refuses it here. */
  runtimeClassName?: string;
  hostname?: string;
  subdomain?: string;
  setHostnameAsFQDN?: boolean;
  /** HostnameOverride (beta, on in v1.36): the pod's hostname as given, with no domain. */
  hostnameOverride?: string;
  securityContext?: PodSecurityContext;
  imagePullSecrets?: { name: string }[];
  priority?: number;
  priorityClassName?: string;
  readinessGates?: { conditionType: string }[];
  enableServiceLinks?: boolean;
  overhead?: ResourceList;
  /**
   * Pod-level requests and limits (PodLevelResources, beta and on in v1.36): cpu and memory size the pod cgroup,
   * decide the QoS class and bound containers without limits of their own (api/pod-level-resources.ts); hugepages-*
   * may be set too, but this kubelet writes no hugetlb limits (nor does it for containers).
   */
  resources?: ResourceRequirements;
  /** Debug containers added through pods/ephemeralcontainers (`kubectl debug`); never restarted. */
  ephemeralContainers?: EphemeralContainer[];
  /** Extra /etc/hosts entries (kubelet-managed hosts file). */
  hostAliases?: HostAlias[];
  /** The ResourceClaims the pod's containers may use (DRA; prepared before the sandbox starts). */
  resourceClaims?: PodResourceClaim[];
}

/** A container added to a running pod; with targetContainerName it joins that container's process namespace. */
export interface EphemeralContainer extends Container {
  targetContainerName?: string;
}

/** An extra line of the pod's kubelet-managed /etc/hosts: `ip` followed by its `hostnames`. */
export interface HostAlias {
  ip: string;
  hostnames?: string[];
}

/**
 * A container that is not running yet or is held back, with the reason, e.g. ContainerCreating, CrashLoopBackOff or
 * ImagePullBackOff.
 */
export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

/** A running container; `startedAt` is an RFC 3339 time. */
export interface ContainerStateRunning {
  startedAt?: string;
}

/**
 * A container that has exited, with its exit code and a reason such as Completed, Error or OOMKilled; times are RFC
 * 3339 strings, null where the kubelet wrote the state without any (RestartingAllContainers, as upstream's zero time).
 */
export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  containerID?: string;
}

/** A container's state in pod status; exactly one of waiting, running or terminated is set. */
export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

/** One resource's devices and their health in a container's status (ResourceHealthStatus). */
export interface ResourceStatus {
  name: string;
  /** `message`: the driver's details of the device's health (ResourceHealthStatusMessage). */
  resources: { resourceID: string; health: 'Healthy' | 'Unhealthy' | 'Unknown'; message?: string }[];
}

/**
 * What the kubelet reports for one container in pod status (core/v1 ContainerStatus); `lastState` holds the
 * previous run's termination after a restart.
 */
export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started?: boolean;
  /** The container's mounts (v1.34 reports them for every container; RecursiveReadOnlyMounts). */
  volumeMounts?: VolumeMountStatus[];
  /** The health of the devices allocated to it, by resource (ResourceHealthStatus, beta and on in v1.36). */
  allocatedResourcesStatus?: ResourceStatus[];
  /** Requests the kubelet admitted the running container with (InPlacePodVerticalScaling). */
  allocatedResources?: ResourceList;
  /** Requests and limits applied to the running container (InPlacePodVerticalScaling). */
  resources?: ResourceRequirements;
  /** The identity the runtime reports the container's process runs as (SupplementalGroupsPolicy). */
  user?: { linux?: { uid: number; gid: number; supplementalGroups?: number[] } };
}

/** One mount as it was applied to the running container, including whether it was made recursively read-only. */
export interface VolumeMountStatus {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  recursiveReadOnly?: 'Disabled' | 'Enabled';
}

/** The pod's coarse lifecycle phase as the kubelet computes it; Succeeded and Failed are final. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/**
 * One condition of pod status, e.g. Ready, ContainersReady, Initialized or PodReadyToStartContainers; times are RFC
 * 3339 strings.
 */
export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
  /** The pod's metadata.generation this condition was computed for (Pod generation, GA 1.35). */
  observedGeneration?: number;
}

/**
 * The pod status the kubelet computes and patches to the API server (core/v1 PodStatus); times are RFC 3339
 * strings.
 */
export interface PodStatus {
  /** The pod's metadata.generation this status was computed for (Pod generation, GA 1.35). */
  observedGeneration?: number;
  phase?: PodPhase;
  conditions?: PodCondition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
  ephemeralContainerStatuses?: ContainerStatus[];
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort';
  /** The pod's allocated requests (cpu, memory) as a whole, pod-level ones when set (v1.36, InPlacePodLevelResourcesVerticalScaling). */
  allocatedResources?: ResourceList;
  /** The pod's applied requests and limits (v1.34+, reported for every pod). */
  resources?: ResourceRequirements;
  /** The ResourceClaims the resourceclaim controller made from spec.resourceClaims' templates (DRA). */
  resourceClaimStatuses?: { name: string; resourceClaimName?: string }[];
  /** The claim the scheduler made for extended resources backed by DRA (DRAExtendedResource). */
  extendedResourceClaimStatus?: {
    resourceClaimName: string;
    requestMappings: { containerName: string; resourceName: string; requestName: string }[];
  };
}

/** A core/v1 Pod in its JSON shape, as the kubelet gets it from the API server or a static-pod manifest. */
export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

/**
 * A core/v1 ConfigMap in its JSON shape, the source of configMap env vars and volumes; `binaryData` values are
 * base64.
 */
export interface ConfigMap {
  metadata: ObjectMeta;
  /** Its data can no longer change: the kubelet stops watching it. */
  immutable?: boolean;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/**
 * A core/v1 Secret in its JSON shape, the source of secret env vars, volumes and image pull credentials;
 * `stringData` holds plain-text values that take precedence over `data`.
 */
export interface Secret {
  metadata: ObjectMeta;
  /** Its data can no longer change: the kubelet stops watching it. */
  immutable?: boolean;
  /** base64-encoded values, as on the wire. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  type?: string;
}

/** A pod's identity in logs, maps and error messages: "namespace/name". */
export function podKey(pod: Pick<Pod, 'metadata'>): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

/** Init containers with restartPolicy Always are sidecars: started in order, kept running. */
export function isSidecar(container: Container): boolean {
  return container.restartPolicy === 'Always';
}
