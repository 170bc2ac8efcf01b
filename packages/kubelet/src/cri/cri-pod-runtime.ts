import { type CriClient, isNotFound } from '@nodeagent/cri-client';
import type { ContainerConfig, MessageInput, PodSandboxConfig } from '@nodeagent/cri-client/types';
import { removeContainerLogs } from '../logs/remove-container-logs';
import { CriImageInfo } from './cri-image-info';
import { CriStatusReader } from './cri-status-reader';
import type { ExecResult, ImagePullAuth, PodRuntime, RuntimeFeatures } from './pod-runtime';

/**
 * PodRuntime over a CRI runtime.v1 client. Objects are matched to pods through the
 * io.kubernetes.pod.* labels the kubelet puts on them, so containers survive a kubelet restart.
 * Sandbox network status never changes once ready, and a container's ContainerStatus details
 * (start and finish times, exit code, reason) do not change while its listed state stays the
 * same, so both are fetched once per state and cached by id: a relist of a steady node is two
 * list calls, not one call per container.
 */
export function criPodRuntime(client: CriClient, options: { runtimeType?: string } = {}): PodRuntime {
  const statuses = new CriStatusReader(client, options.runtimeType ?? 'containerd');
  const images = new CriImageInfo(client);
  return {
    listPods: () => statuses.listPods(),
    podStatus: (uid) => statuses.podStatus(uid),
    podSandboxStatus: (sandboxId) => statuses.podSandboxStatus(sandboxId),
    ...sandboxCalls(client, statuses),
    ...imageCalls(client, images),
    ...containerCalls(client, statuses),
    runtimeFeatures: () => runtimeFeatures(client),
  };
}

/** CRI RunPodSandbox, StopPodSandbox, RemovePodSandbox and UpdatePodSandboxResources; stopping or removing a sandbox the runtime no longer has succeeds. */
function sandboxCalls(
  client: CriClient,
  statuses: CriStatusReader,
): Pick<PodRuntime, 'runPodSandbox' | 'stopPodSandbox' | 'removePodSandbox' | 'updatePodSandboxResources'> {
  return {
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
      statuses.forgetSandbox(sandboxId);
    },

    async updatePodSandboxResources(request): Promise<void> {
      await client.updatePodSandboxResources(request);
    },
  };
}

/** The image questions (answered from CriImageInfo's per-id memory) and CRI PullImage. */
function imageCalls(
  client: CriClient,
  images: CriImageInfo,
): Pick<PodRuntime, 'imageRef' | 'imageSize' | 'imageUser' | 'pullImage'> {
  return {
    imageRef: (image) => images.imageRef(image),
    imageSize: (image) => images.imageSize(image),
    imageUser: (image) => images.imageUser(image),

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
  };
}

/** A container's lifecycle calls, events and exec; stopping or removing one the runtime no longer has succeeds. */
function containerCalls(
  client: CriClient,
  statuses: CriStatusReader,
): Pick<
  PodRuntime,
  | 'createContainer'
  | 'startContainer'
  | 'stopContainer'
  | 'containerAnnotations'
  | 'updateContainerResources'
  | 'removeContainer'
  | 'containerEvents'
  | 'execSync'
> {
  return {
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

    async containerAnnotations(containerId: string): Promise<Record<string, string> | undefined> {
      try {
        return (await client.containerStatus({ containerId })).status?.annotations ?? undefined;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
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
      statuses.forgetContainer(containerId);
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

/** CRI Status: which features the runtime and each of its handlers support. */
async function runtimeFeatures(client: CriClient): Promise<RuntimeFeatures> {
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
}
