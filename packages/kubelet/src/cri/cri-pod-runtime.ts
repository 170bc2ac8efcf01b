import { type CriClient, isNotFound } from '@nodeagent/cri-client';
import {
  type ContainerConfig,
  type Container as CriContainer,
  ContainerState as CriContainerState,
  type ContainerStatus as CriContainerStatus,
  type Image as CriImage,
  type PodSandboxStatus as CriPodSandboxStatus,
  type MessageInput,
  NamespaceMode,
  type PodSandbox,
  type PodSandboxConfig,
  PodSandboxState,
} from '@nodeagent/cri-client/types';
import { removeContainerLogs } from '../logs/remove-container-logs';
import {
  containerHashAnnotation,
  containerNameLabel,
  containerRestartCountAnnotation,
  podIdentityFromLabels,
  podUidLabel,
} from './labels';
import type { ExecResult, ImagePullAuth, PodRuntime, RuntimeFeatures } from './pod-runtime';
import type {
  ContainerRuntimeState,
  PodRuntimeStatus,
  RuntimeContainerStatus,
  RuntimeSandboxStatus,
} from './runtime-state';
import { terminationMessage } from './termination-message';

const nsToMs = (ns: bigint) => Number(ns / 1_000_000n);

function containerState(state: number): ContainerRuntimeState {
  switch (state) {
    case CriContainerState.CONTAINER_CREATED:
      return 'created';
    case CriContainerState.CONTAINER_RUNNING:
      return 'running';
    case CriContainerState.CONTAINER_EXITED:
      return 'exited';
    default:
      return 'unknown';
  }
}

/**
 * PodRuntime over a CRI runtime.v1 client. Objects are matched to pods through the
 * io.kubernetes.pod.* labels the kubelet puts on them, so containers survive a kubelet restart.
 * Sandbox network status never changes once ready, and a container's ContainerStatus details
 * (start and finish times, exit code, reason) do not change while its listed state stays the
 * same, so both are fetched once per state and cached by id: a relist of a steady node is two
 * list calls, not one call per container.
 */
export function criPodRuntime(client: CriClient, options: { runtimeType?: string } = {}): PodRuntime {
  const runtimeType = options.runtimeType ?? 'containerd';
  const sandboxNetwork = new Map<string, { ips: string[]; hostNetwork: boolean }>();
  const containerStatusCache = new Map<string, CriContainerStatus>();
  const imageStatusInFlight = new Map<string, Promise<string | undefined>>();
  /**
   * The configured user of each image id seen in an ImageStatus answer. An id is the digest of the
   * image config, which holds the user, so the answer never changes: the image-user check before
   * CreateContainer costs no second ImageStatus after the presence check made one.
   */
  const imageUsers = new Map<string, { uid?: number; username?: string }>();
  /** Each image id's size from ImageStatus, for the Pulled event (also immutable per id). */
  const imageSizes = new Map<string, number>();

  function rememberImage(image: CriImage | null): string | undefined {
    if (!image?.id) return undefined;
    imageUsers.set(image.id, {
      uid: image.uid ? Number(image.uid.value) : undefined,
      username: image.username,
    });
    imageSizes.set(image.id, Number(image.size));
    return image.id;
  }

  /** A sandbox's IPs and network mode from its status; remembered once it is ready with them. */
  function networkOf(status: CriPodSandboxStatus): { ips: string[]; hostNetwork: boolean } {
    const ips = status.network?.ip
      ? [status.network.ip, ...status.network.additionalIps.map((ip) => ip.ip)]
      : [];
    const hostNetwork = status.linux?.namespaces?.options?.network === NamespaceMode.NODE;
    const details = { ips, hostNetwork };
    // A ready sandbox's network does not change; a not-ready one may still be coming up.
    if (status.state === PodSandboxState.SANDBOX_READY && (ips.length > 0 || hostNetwork))
      sandboxNetwork.set(status.id, details);
    return details;
  }

  async function sandboxDetails(id: string): Promise<{ ips: string[]; hostNetwork: boolean } | undefined> {
    const cached = sandboxNetwork.get(id);
    if (cached) return cached;
    try {
      const status = (await client.podSandboxStatus({ podSandboxId: id })).status;
      return status ? networkOf(status) : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The cached details of a container in a settled state (running, exited) it is still listed in. */
  function settledDetails(id: string, listedState: number): CriContainerStatus | undefined {
    const cached = containerStatusCache.get(id);
    // Running and exited are settled states: nothing in the details moves until the state does.
    if (
      cached &&
      cached.state === listedState &&
      (listedState === CriContainerState.CONTAINER_RUNNING ||
        listedState === CriContainerState.CONTAINER_EXITED)
    )
      return cached;
    return undefined;
  }

  async function containerDetails(id: string, listedState: number): Promise<CriContainerStatus | undefined> {
    const cached = settledDetails(id, listedState);
    if (cached) return cached;
    try {
      const status = (await client.containerStatus({ containerId: id })).status ?? undefined;
      if (status) {
        // Read once, when the container is first seen exited: the cache keeps it with the details.
        status.message = await terminationMessage(status);
        containerStatusCache.set(id, status);
      }
      return status;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function sandboxStatus(sandbox: PodSandbox): Promise<RuntimeSandboxStatus> {
    return toSandboxStatus(sandbox, await sandboxDetails(sandbox.id));
  }

  function toSandboxStatus(
    sandbox: PodSandbox,
    details: { ips: string[]; hostNetwork: boolean } | undefined,
  ): RuntimeSandboxStatus {
    return {
      id: sandbox.id,
      attempt: sandbox.metadata?.attempt ?? 0,
      ready: sandbox.state === PodSandboxState.SANDBOX_READY,
      createdAt: nsToMs(sandbox.createdAt),
      ips: details?.ips ?? [],
      hostNetwork: details?.hostNetwork ?? false,
    };
  }

  async function containerStatus(container: CriContainer): Promise<RuntimeContainerStatus> {
    return toContainerStatus(container, await containerDetails(container.id, container.state));
  }

  /**
   * Each listed item's converted status, with the details it was built from. The CRI client hands
   * back the same (frozen) item while the runtime lists it unchanged, so a steady node's relist
   * converts nothing again: no promise and no object per container and second (issue 35).
   */
  const convertedSandboxes = new WeakMap<PodSandbox, { details: object; status: RuntimeSandboxStatus }>();
  const convertedContainers = new WeakMap<
    CriContainer,
    { details: object; status: RuntimeContainerStatus }
  >();

  /** The item's status without a runtime call, when its details are cached; else undefined. */
  function knownSandboxStatus(sandbox: PodSandbox): RuntimeSandboxStatus | undefined {
    const details = sandboxNetwork.get(sandbox.id);
    if (!details) return undefined;
    const converted = convertedSandboxes.get(sandbox);
    if (converted?.details === details) return converted.status;
    const status = toSandboxStatus(sandbox, details);
    convertedSandboxes.set(sandbox, { details, status });
    return status;
  }

  function knownContainerStatus(container: CriContainer): RuntimeContainerStatus | undefined {
    const details = settledDetails(container.id, container.state);
    if (!details) return undefined;
    const converted = convertedContainers.get(container);
    if (converted?.details === details) return converted.status;
    const status = toContainerStatus(container, details);
    convertedContainers.set(container, { details, status });
    return status;
  }

  function toContainerStatus(
    container: CriContainer,
    details: CriContainerStatus | undefined,
  ): RuntimeContainerStatus {
    const state = containerState(details?.state ?? container.state);
    const status: RuntimeContainerStatus = {
      id: container.id,
      runtimeType,
      name: container.labels[containerNameLabel] ?? container.metadata?.name ?? '',
      state,
      restartCount: Number(
        container.annotations[containerRestartCountAnnotation] ?? container.metadata?.attempt ?? 0,
      ),
      hash: container.annotations[containerHashAnnotation] ?? '',
      createdAt: nsToMs(container.createdAt),
      image: container.image?.userSpecifiedImage || container.image?.image || '',
      imageRef: container.imageRef,
      sandboxId: container.podSandboxId,
    };
    if (details) {
      if (details.startedAt > 0n) status.startedAt = nsToMs(details.startedAt);
      if (details.finishedAt > 0n) status.finishedAt = nsToMs(details.finishedAt);
      if (state === 'exited') status.exitCode = details.exitCode;
      if (details.reason) status.reason = details.reason;
      if (details.message) status.message = details.message;
    }
    return status;
  }

  /** Groups listed sandboxes and containers by pod; their details are fetched concurrently. */
  async function groupByPod(
    sandboxes: PodSandbox[],
    containers: CriContainer[],
  ): Promise<PodRuntimeStatus[]> {
    const pods = new Map<string, PodRuntimeStatus>();
    const podFor = (labels: Record<string, string>) => {
      const identity = podIdentityFromLabels(labels);
      if (!identity) return undefined;
      let pod = pods.get(identity.uid);
      if (!pod) {
        pod = {
          uid: identity.uid,
          name: identity.name,
          namespace: identity.namespace,
          sandboxes: [],
          containers: [],
        };
        pods.set(identity.uid, pod);
      }
      return pod;
    };
    const work: Promise<void>[] = [];
    for (const sandbox of sandboxes) {
      const pod = podFor(sandbox.labels);
      if (!pod) continue;
      const known = knownSandboxStatus(sandbox);
      if (known) pod.sandboxes.push(known);
      else work.push(sandboxStatus(sandbox).then((status) => void pod.sandboxes.push(status)));
    }
    for (const container of containers) {
      const pod = podFor(container.labels);
      if (!pod) continue;
      const known = knownContainerStatus(container);
      if (known) pod.containers.push(known);
      else work.push(containerStatus(container).then((status) => void pod.containers.push(status)));
    }
    await Promise.all(work);
    for (const pod of pods.values()) {
      pod.sandboxes.sort((a, b) => b.createdAt - a.createdAt);
      pod.containers.sort((a, b) => b.createdAt - a.createdAt);
    }
    return [...pods.values()];
  }

  return {
    async listPods(): Promise<PodRuntimeStatus[]> {
      const [sandboxes, containers] = await Promise.all([
        client.listPodSandbox({}),
        client.listContainers({}),
      ]);
      const pods = await groupByPod(sandboxes.items, containers.containers);
      // Forget details of objects the runtime no longer has.
      const liveSandboxes = new Set(sandboxes.items.map((sandbox) => sandbox.id));
      const liveContainers = new Set(containers.containers.map((container) => container.id));
      for (const id of sandboxNetwork.keys()) if (!liveSandboxes.has(id)) sandboxNetwork.delete(id);
      for (const id of containerStatusCache.keys())
        if (!liveContainers.has(id)) containerStatusCache.delete(id);
      return pods;
    },

    async podStatus(uid: string): Promise<PodRuntimeStatus | undefined> {
      const filter = { labelSelector: { [podUidLabel]: uid } };
      const [sandboxes, containers] = await Promise.all([
        client.listPodSandbox({ filter }),
        client.listContainers({ filter }),
      ]);
      // The label filter is the runtime's job; checking again keeps a lax runtime from mixing pods.
      const pods = await groupByPod(
        sandboxes.items.filter((sandbox) => sandbox.labels[podUidLabel] === uid),
        containers.containers.filter((container) => container.labels[podUidLabel] === uid),
      );
      return pods[0];
    },

    async podSandboxStatus(sandboxId: string): Promise<RuntimeSandboxStatus | undefined> {
      try {
        const status = (await client.podSandboxStatus({ podSandboxId: sandboxId })).status;
        if (!status) return undefined;
        const details = networkOf(status);
        return {
          id: status.id,
          attempt: status.metadata?.attempt ?? 0,
          ready: status.state === PodSandboxState.SANDBOX_READY,
          createdAt: nsToMs(status.createdAt),
          ips: details.ips,
          hostNetwork: details.hostNetwork,
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async runPodSandbox(config: MessageInput<PodSandboxConfig>, runtimeHandler = ''): Promise<string> {
      const response = await client.runPodSandbox({ config, runtimeHandler });
      return response.podSandboxId;
    },

    async stopPodSandbox(sandboxId: string): Promise<void> {
      try {
        await client.stopPodSandbox({ podSandboxId: sandboxId });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },

    async removePodSandbox(sandboxId: string): Promise<void> {
      try {
        await client.removePodSandbox({ podSandboxId: sandboxId });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      sandboxNetwork.delete(sandboxId);
    },

    imageRef(image: string): Promise<string | undefined> {
      // A burst of pods on one image asks at once: they share the call in flight (never an
      // older answer, so a removed or re-pulled image is seen by the next caller).
      const inFlight = imageStatusInFlight.get(image);
      if (inFlight) return inFlight;
      const call = client
        .imageStatus({ image: { image } })
        .then((response) => rememberImage(response.image))
        .finally(() => imageStatusInFlight.delete(image));
      imageStatusInFlight.set(image, call);
      return call;
    },

    async imageSize(image: string): Promise<number | undefined> {
      const known = imageSizes.get(image);
      if (known !== undefined) return known;
      const id = rememberImage((await client.imageStatus({ image: { image } })).image);
      return id === undefined ? undefined : imageSizes.get(id);
    },

    async imageUser(image: string): Promise<{ uid?: number; username?: string } | undefined> {
      const known = imageUsers.get(image);
      if (known) return known;
      const id = rememberImage((await client.imageStatus({ image: { image } })).image);
      return id === undefined ? undefined : imageUsers.get(id);
    },

    async pullImage(
      image: string,
      auth: ImagePullAuth | undefined,
      sandboxConfig: MessageInput<PodSandboxConfig>,
    ): Promise<string> {
      const response = await client.pullImage({
        image: { image },
        auth: auth ?? null,
        sandboxConfig,
      });
      return response.imageRef;
    },

    async createContainer(
      sandboxId: string,
      config: MessageInput<ContainerConfig>,
      sandboxConfig: MessageInput<PodSandboxConfig>,
    ): Promise<string> {
      const response = await client.createContainer({
        podSandboxId: sandboxId,
        config,
        sandboxConfig,
      });
      return response.containerId;
    },

    async startContainer(containerId: string): Promise<void> {
      await client.startContainer({ containerId });
    },

    async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
      try {
        // The call itself must outlive the grace period it grants.
        await client.stopContainer(
          { containerId, timeout: timeoutSeconds },
          { timeoutMs: (timeoutSeconds + 30) * 1000 },
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },

    async updateContainerResources(containerId, resources): Promise<void> {
      await client.updateContainerResources({
        containerId,
        linux: resources,
        windows: null,
        annotations: {},
      });
    },

    async removeContainer(containerId: string): Promise<void> {
      try {
        // Upstream removeContainer: the log files go first, so a container whose logs cannot be
        // removed stays and the next GC retries; the runtime itself leaves them behind.
        await removeContainerLogs(client, containerId);
        await client.removeContainer({ containerId });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      containerStatusCache.delete(containerId);
    },

    async *containerEvents(signal: AbortSignal): AsyncIterable<{ containerId: string }> {
      for await (const event of client.getContainerEvents({ signal }))
        yield { containerId: event.containerId };
    },

    async runtimeFeatures(): Promise<RuntimeFeatures> {
      const response = await client.status({ verbose: false });
      // Runtimes before CRI v1.30's handler list (containerd 1.6/1.7) report none: no feature.
      const defaultHandler = response.runtimeHandlers.find((handler) => handler.name === '');
      return {
        userNamespaces: defaultHandler?.features?.userNamespaces === true,
        supplementalGroupsPolicy: response.features?.supplementalGroupsPolicy === true,
        runtimeHandlers: response.runtimeHandlers.map((handler) => ({
          name: handler.name,
          userNamespaces: handler.features?.userNamespaces === true,
        })),
      };
    },

    async execSync(containerId: string, command: string[], timeoutSeconds: number): Promise<ExecResult> {
      const response = await client.execSync(
        { containerId, cmd: command, timeout: timeoutSeconds },
        { timeoutMs: (timeoutSeconds + 10) * 1000 },
      );
      return {
        exitCode: response.exitCode,
        stdout: Buffer.from(response.stdout),
        stderr: Buffer.from(response.stderr),
      };
    },
  };
}
