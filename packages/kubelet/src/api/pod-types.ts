import type { V1ObjectMeta } from '@kubernetes/client-node';

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

export type ResourceList = Record<string, string | number>;

export interface ResourceRequirements {
  limits?: ResourceList;
  requests?: ResourceList;
}

export interface ObjectFieldSelector {
  apiVersion?: string;
  fieldPath: string;
}

export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string | number;
}

export interface KeySelector {
  name?: string;
  key: string;
  optional?: boolean;
}

export interface EnvVarSource {
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  configMapKeyRef?: KeySelector;
  secretKeyRef?: KeySelector;
  /** EnvFiles (beta, on in v1.36): a key of an env file in one of the pod's emptyDir volumes. */
  fileKeyRef?: FileKeySelector;
}

export type ContainerRestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** One container restart rule: on an exit code matching `exitCodes`, take `action`. */
export interface ContainerRestartRule {
  /** "Restart" restarts the container (v1.36 also knows "RestartAllContainers", see the pod's restart). */
  action: string;
  /** operator In or NotIn (another value never matches). */
  exitCodes?: { operator: string; values?: number[] };
}

export interface FileKeySelector {
  volumeName: string;
  /** Relative to the volume's root. */
  path: string;
  key: string;
  optional?: boolean;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  hostPort?: number;
  hostIP?: string;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

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

export interface ExecAction {
  command?: string[];
}

export interface HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
}

export interface LifecycleHandler {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  sleep?: { seconds: number };
}

export interface Probe extends LifecycleHandler {
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
}

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

export interface SELinuxOptions {
  user?: string;
  role?: string;
  type?: string;
  level?: string;
}

export interface WindowsSecurityContextOptions {
  gmsaCredentialSpecName?: string;
  gmsaCredentialSpec?: string;
  runAsUserName?: string;
  hostProcess?: boolean;
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Path of the profile file relative to <root-dir>/seccomp (type Localhost only). */
  localhostProfile?: string;
}

export interface AppArmorProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  /** Name of a profile loaded on the node (type Localhost only). */
  localhostProfile?: string;
}

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

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface DownwardAPIVolumeFile {
  path: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  mode?: number;
}

export interface ConfigMapVolumeSource {
  name?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface SecretVolumeSource {
  secretName?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface ServiceAccountTokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export interface VolumeProjection {
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardAPIVolumeFile[] };
  serviceAccountToken?: ServiceAccountTokenProjection;
}

export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';

export interface Volume {
  name: string;
  emptyDir?: { medium?: '' | 'Memory'; sizeLimit?: string | number };
  hostPath?: { path: string; type?: HostPathType };
  configMap?: ConfigMapVolumeSource;
  secret?: SecretVolumeSource;
  downwardAPI?: { items?: DownwardAPIVolumeFile[]; defaultMode?: number };
  projected?: { sources?: VolumeProjection[]; defaultMode?: number };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type DNSPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

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
  /** Debug containers added through pods/ephemeralcontainers (`kubectl debug`); never restarted. */
  ephemeralContainers?: EphemeralContainer[];
  /** Extra /etc/hosts entries (kubelet-managed hosts file). */
  hostAliases?: HostAlias[];
}

/** A container added to a running pod; with targetContainerName it joins that container's process namespace. */
export interface EphemeralContainer extends Container {
  targetContainerName?: string;
}

export interface HostAlias {
  ip: string;
  hostnames?: string[];
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}

export interface ContainerStateRunning {
  startedAt?: string;
}

export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}

export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

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
  /** Requests the kubelet admitted the running container with (InPlacePodVerticalScaling). */
  allocatedResources?: ResourceList;
  /** Requests and limits applied to the running container (InPlacePodVerticalScaling). */
  resources?: ResourceRequirements;
  /** The identity the runtime reports the container's process runs as (SupplementalGroupsPolicy). */
  user?: { linux?: { uid: number; gid: number; supplementalGroups?: number[] } };
}

export interface VolumeMountStatus {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  recursiveReadOnly?: 'Disabled' | 'Enabled';
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

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
  /** The pod's applied requests and limits (v1.34+, reported for every pod). */
  resources?: ResourceRequirements;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

export interface ConfigMap {
  metadata: ObjectMeta;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface Secret {
  metadata: ObjectMeta;
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
