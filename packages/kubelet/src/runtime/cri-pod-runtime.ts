import {
  type ContainerConfig,
  type CriClient,
  ContainerState as CriContainerState,
  type ContainerStatus as CriContainerStatus,
  isNotFound,
  type MessageInput,
  NamespaceMode,
  type PodSandboxConfig,
  PodSandboxState,
} from '@nodeagent/cri-client';
import {
  containerHashAnnotation,
  containerNameLabel,
  containerRestartCountAnnotation,
  podIdentityFromLabels,
} from '../cri/labels';
import type { ExecResult, ImagePullAuth, PodRuntime } from './pod-runtime';
import type {
  ContainerRuntimeState,
  PodRuntimeStatus,
  RuntimeContainerStatus,
  RuntimeSandboxStatus,
} from './runtime-state';

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
 * Sandbox network status and exited containers' statuses never change, so they are fetched once
 * and cached by id.
 */
export function criPodRuntime(client: CriClient, options: { runtimeType?: string } = {}): PodRuntime {
  const runtimeType = options.runtimeType ?? 'containerd';
  const sandboxNetwork = new Map<string, { ips: string[]; hostNetwork: boolean }>();
  const exitedStatus = new Map<string, CriContainerStatus>();

  async function sandboxDetails(id: string): Promise<{ ips: string[]; hostNetwork: boolean } | undefined> {
    const cached = sandboxNetwork.get(id);
    if (cached) return cached;
    try {
      const response = await client.podSandboxStatus({ podSandboxId: id });
      const status = response.status;
      if (!status) return undefined;
      const ips = status.network?.ip
        ? [status.network.ip, ...status.network.additionalIps.map((ip) => ip.ip)]
        : [];
      const hostNetwork = status.linux?.namespaces?.options?.network === NamespaceMode.NODE;
      const details = { ips, hostNetwork };
      // A ready sandbox's network does not change; a not-ready one may still be coming up.
      if (status.state === PodSandboxState.SANDBOX_READY && (ips.length > 0 || hostNetwork))
        sandboxNetwork.set(id, details);
      return details;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async function containerDetails(id: string, state: number): Promise<CriContainerStatus | undefined> {
    const cached = exitedStatus.get(id);
    if (cached) return cached;
    try {
      const status = (await client.containerStatus({ containerId: id })).status ?? undefined;
      if (
        status &&
        status.state === CriContainerState.CONTAINER_EXITED &&
        state === CriContainerState.CONTAINER_EXITED
      ) {
        exitedStatus.set(id, status);
      }
      return status;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  return {
    async listPods(): Promise<PodRuntimeStatus[]> {
      const [sandboxes, containers] = await Promise.all([
        client.listPodSandbox({}),
        client.listContainers({}),
      ]);
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
      const liveSandboxes = new Set<string>();
      for (const sandbox of sandboxes.items) {
        const pod = podFor(sandbox.labels);
        if (!pod) continue;
        liveSandboxes.add(sandbox.id);
        const details = await sandboxDetails(sandbox.id);
        pod.sandboxes.push({
          id: sandbox.id,
          attempt: sandbox.metadata?.attempt ?? 0,
          ready: sandbox.state === PodSandboxState.SANDBOX_READY,
          createdAt: nsToMs(sandbox.createdAt),
          ips: details?.ips ?? [],
          hostNetwork: details?.hostNetwork ?? false,
        });
      }
      const liveContainers = new Set<string>();
      for (const container of containers.containers) {
        const pod = podFor(container.labels);
        if (!pod) continue;
        liveContainers.add(container.id);
        const details = await containerDetails(container.id, container.state);
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
        pod.containers.push(status);
      }
      for (const id of sandboxNetwork.keys()) if (!liveSandboxes.has(id)) sandboxNetwork.delete(id);
      for (const id of exitedStatus.keys()) if (!liveContainers.has(id)) exitedStatus.delete(id);
      for (const pod of pods.values()) {
        pod.sandboxes.sort((a, b) => b.createdAt - a.createdAt);
        pod.containers.sort((a, b) => b.createdAt - a.createdAt);
      }
      return [...pods.values()];
    },

    async podSandboxStatus(sandboxId: string): Promise<RuntimeSandboxStatus | undefined> {
      try {
        const status = (await client.podSandboxStatus({ podSandboxId: sandboxId })).status;
        if (!status) return undefined;
        const details = await sandboxDetails(sandboxId);
        return {
          id: status.id,
          attempt: status.metadata?.attempt ?? 0,
          ready: status.state === PodSandboxState.SANDBOX_READY,
          createdAt: nsToMs(status.createdAt),
          ips: details?.ips ?? [],
          hostNetwork: details?.hostNetwork ?? false,
        };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },

    async runPodSandbox(config: MessageInput<PodSandboxConfig>): Promise<string> {
      const response = await client.runPodSandbox({
        config,
        runtimeHandler: '',
      });
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

    async imageRef(image: string): Promise<string | undefined> {
      const response = await client.imageStatus({ image: { image } });
      return response.image?.id || undefined;
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

    async removeContainer(containerId: string): Promise<void> {
      try {
        await client.removeContainer({ containerId });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      exitedStatus.delete(containerId);
    },

    async *containerEvents(signal: AbortSignal): AsyncIterable<{ containerId: string }> {
      for await (const event of client.getContainerEvents({ signal }))
        yield { containerId: event.containerId };
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
