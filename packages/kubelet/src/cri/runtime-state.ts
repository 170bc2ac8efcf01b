/**
 * The kubelet's runtime-neutral view of what is running for a pod, built from CRI
 * ListPodSandbox/ListContainers/ContainerStatus (the PLEG cache holds these). Times are
 * milliseconds since the epoch.
 */

export type ContainerRuntimeState = 'created' | 'running' | 'exited' | 'unknown';

/**
 * One container instance as the runtime reports it (CRI ContainerStatus), mapped to the kubelet's view; times are
 * epoch milliseconds.
 */
export interface RuntimeContainerStatus {
  /** Runtime container id (without the "containerd://" prefix). */
  id: string;
  /** Runtime type, used for the API's containerID ("containerd://<id>"). */
  runtimeType?: string;
  name: string;
  state: ContainerRuntimeState;
  /** The CRI metadata attempt: how many times this container was restarted in the pod. */
  restartCount: number;
  /** io.kubernetes.container.hash of the spec it was created from. */
  hash: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  image: string;
  imageRef: string;
  sandboxId?: string;
  /**
   * The identity the container's first process runs as, when the runtime reports it (CRI
   * ContainerStatus.user: containerd 2.x does, 1.6 does not).
   */
  user?: RuntimeContainerUser;
}

/** CRI LinuxContainerUser as numbers. */
export interface RuntimeContainerUser {
  uid: number;
  gid: number;
  supplementalGroups: number[];
}

/** One pod sandbox as the runtime reports it (CRI PodSandboxStatus); `createdAt` is epoch milliseconds. */
export interface RuntimeSandboxStatus {
  id: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  /** Primary IP then additional IPs; empty for host-network pods. */
  ips: string[];
  hostNetwork: boolean;
}

/** Every sandbox and container instance the runtime holds for one pod (upstream kubecontainer.PodStatus). */
export interface PodRuntimeStatus {
  uid: string;
  name: string;
  namespace: string;
  /** Newest first. */
  sandboxes: RuntimeSandboxStatus[];
  /** Every container instance of the pod (all sandboxes), newest first. */
  containers: RuntimeContainerStatus[];
}

/** The newest instance of the named container, if any. */
export function findContainer(status: PodRuntimeStatus, name: string): RuntimeContainerStatus | undefined {
  let newest: RuntimeContainerStatus | undefined;
  for (const container of status.containers) {
    if (container.name !== name) continue;
    if (!newest || container.createdAt > newest.createdAt) newest = container;
  }
  return newest;
}

/** All instances of the named container, newest first. */
export function containerInstances(status: PodRuntimeStatus, name: string): RuntimeContainerStatus[] {
  return status.containers.filter((c) => c.name === name).sort((a, b) => b.createdAt - a.createdAt);
}

/** The status of a pod the runtime holds nothing for: no sandboxes and no containers. */
export function emptyPodRuntimeStatus(uid: string, name: string, namespace: string): PodRuntimeStatus {
  return { uid, name, namespace, sandboxes: [], containers: [] };
}

/**
 * Whether the pod has a ready sandbox: what upstream counts as a running pod (kubelet_running_pods,
 * /runningpods/). A loop: the running gauges ask it of every pod at each PLEG event.
 */
export function hasReadySandbox(status: Pick<PodRuntimeStatus, 'sandboxes'>): boolean {
  for (const sandbox of status.sandboxes) if (sandbox.ready) return true;
  return false;
}

/** Whether anything of the pod still runs: a running container or a ready sandbox. */
export function isAnythingRunning(status: PodRuntimeStatus): boolean {
  return status.containers.some((c) => c.state === 'running') || hasReadySandbox(status);
}
