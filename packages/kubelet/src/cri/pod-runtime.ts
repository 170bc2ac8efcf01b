import type {
  ContainerConfig,
  LinuxContainerResources,
  MessageInput,
  PodSandboxConfig,
  UpdatePodSandboxResourcesRequest,
} from '@nodeagent/cri-client/types';
import type { PodRuntimeStatus, RuntimeSandboxStatus } from './runtime-state';

/** Registry credentials for one pull (CRI AuthConfig). */
export interface ImagePullAuth {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

/** One runtime handler (a RuntimeClass's CRI handler) and what it can do (CRI Status `runtime_handlers[]`). */
export interface RuntimeHandlerFeatures {
  /** The handler's name; '' is the default handler. */
  name: string;
  /** The handler creates user namespaces (hostUsers: false). */
  userNamespaces: boolean;
}

/** What the runtime reports it can do (CRI Status: `features`, default handler's `features`). */
export interface RuntimeFeatures {
  /** The default runtime handler creates user namespaces (hostUsers: false). */
  userNamespaces: boolean;
  /** supplementalGroupsPolicy: Strict is honoured. */
  supplementalGroupsPolicy: boolean;
  /**
   * Every handler the runtime listed. Absent or empty (not read, or a runtime before CRI v1.30):
   * `userNamespaces` speaks for the default handler alone.
   */
  runtimeHandlers?: RuntimeHandlerFeatures[];
}

/** The outcome of a command run in a container (CRI ExecSync): exit code and the captured output. */
export interface ExecResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * Everything the pod-lifecycle engine asks of a container runtime. It is CRI-shaped but small,
 * so the engine runs unchanged on CRI (criPodRuntime) or an in-memory double in tests.
 */
export interface PodRuntime {
  /**
   * Every sandbox and container the runtime holds, grouped by pod (the PLEG relist). A sandbox or
   * container status object handed out is a snapshot: never change it afterwards (hand out a new
   * one when something changed). The PLEG skips a pod listed with the very objects of its last
   * relist, so criPodRuntime can hand back unchanged ones without building them again.
   */
  listPods(): Promise<PodRuntimeStatus[]>;
  /**
   * One pod's sandboxes and containers (upstream GetPodStatus: list calls filtered by the pod uid
   * label), so a pod's sync does not cost a relist of every pod. Without it the engine filters
   * listPods().
   */
  podStatus?(uid: string): Promise<PodRuntimeStatus | undefined>;
  /** One sandbox's status (CRI PodSandboxStatus); undefined when the runtime no longer has it. */
  podSandboxStatus(sandboxId: string): Promise<RuntimeSandboxStatus | undefined>;
  /** runtimeHandler: the pod's RuntimeClass handler (CRI RunPodSandbox runtime_handler); '' the default. */
  runPodSandbox(config: MessageInput<PodSandboxConfig>, runtimeHandler?: string): Promise<string>;
  /** Stops every container of the sandbox and tears down its network (CRI StopPodSandbox). */
  stopPodSandbox(sandboxId: string): Promise<void>;
  /** Removes a stopped sandbox and whatever containers it still has (CRI RemovePodSandbox). */
  removePodSandbox(sandboxId: string): Promise<void>;
  /** The image id of a present image, or undefined. */
  imageRef(image: string): Promise<string | undefined>;
  /**
   * The user a present image's config runs as (CRI ImageStatus uid/username), or undefined
   * when the image is not present. A runtime without it is taken to run every image as root.
   */
  imageUser?(image: string): Promise<{ uid?: number; username?: string } | undefined>;
  /** A present image's size in bytes (CRI ImageStatus size), for the Pulled event; undefined when unknown. */
  imageSize?(image: string): Promise<number | undefined>;
  /** Pulls and returns the image id. */
  pullImage(
    image: string,
    auth: ImagePullAuth | undefined,
    sandboxConfig: MessageInput<PodSandboxConfig>,
  ): Promise<string>;
  /** Creates a container in the sandbox and returns its runtime id; it does not start it (CRI CreateContainer). */
  createContainer(
    sandboxId: string,
    config: MessageInput<ContainerConfig>,
    sandboxConfig: MessageInput<PodSandboxConfig>,
  ): Promise<string>;
  /** Starts a created container (CRI StartContainer). */
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after timeoutSeconds (CRI StopContainer). */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  /**
   * A container's annotations (CRI ContainerStatus), which hold what its pod spec said (preStop
   * hook, grace period, ports): a restarted kubelet stops a container whose pod it no longer has
   * from them, as upstream's restoreSpecsFromContainerLabels. Undefined when the runtime no longer
   * has it. A runtime without it has such containers stopped without their preStop hook.
   */
  containerAnnotations?(containerId: string): Promise<Record<string, string> | undefined>;
  /** Removes a container that is not running (CRI RemoveContainer). */
  removeContainer(containerId: string): Promise<void>;
  /**
   * New resources for a running container (CRI UpdateContainerResources), for an in-place
   * resize; a runtime without it cannot resize pods in place.
   */
  updateContainerResources?(
    containerId: string,
    resources: MessageInput<LinuxContainerResources>,
  ): Promise<void>;
  /**
   * The pod's resources, told to the runtime before each pod cgroup write of an in-place resize
   * (CRI UpdatePodSandboxResources), e.g. for NRI plugins: it may refuse them, which fails the
   * resize. containerd 1.6 and 2.1 answer UNIMPLEMENTED.
   */
  updatePodSandboxResources?(request: MessageInput<UpdatePodSandboxResourcesRequest>): Promise<void>;
  /** Runs `command` in the container and waits for it (CRI ExecSync), for exec probes and hooks; fails past `timeoutSeconds`. */
  execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecResult>;
  /**
   * Container lifecycle events (CRI GetContainerEvents), when the runtime has them: each one
   * triggers a relist at once instead of waiting for the next period. Ends or throws when the
   * runtime does not support them.
   */
  containerEvents?(signal: AbortSignal): AsyncIterable<{ containerId: string }>;
  /** The runtime's features (CRI Status); without it, admission treats every feature as missing. */
  runtimeFeatures?(): Promise<RuntimeFeatures>;
}
