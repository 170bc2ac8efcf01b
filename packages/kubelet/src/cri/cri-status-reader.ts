// PodRuntime's status reads over CRI: list calls grouped by pod, with the per-object details
// (sandbox network, container times and exit) fetched once per state and cached by id.

import { type CriClient, isNotFound } from '@nodeagent/cri-client';
import {
  type Container as CriContainer,
  ContainerState as CriContainerState,
  type ContainerStatus as CriContainerStatus,
  type PodSandboxStatus as CriPodSandboxStatus,
  type PodSandbox,
  PodSandboxState,
} from '@nodeagent/cri-client/types';
import {
  nsToMs,
  type SandboxNetwork,
  sandboxNetworkOf,
  toContainerStatus,
  toSandboxStatus,
} from './cri-status-conversion';
import { podIdentityFromLabels, podUidLabel } from './labels';
import type { PodRuntimeStatus, RuntimeContainerStatus, RuntimeSandboxStatus } from './runtime-state';
import { terminationMessage } from './termination-message';

/**
 * The runtime's sandboxes and containers grouped by pod (the io.kubernetes.pod.* labels the
 * kubelet puts on them, so they survive a kubelet restart). Sandbox network status never changes
 * once ready, and a container's ContainerStatus details (start and finish times, exit code,
 * reason) do not change while its listed state stays the same, so both are fetched once per
 * state and cached by id: a relist of a steady node is two list calls, not one call per container.
 */
export class CriStatusReader {
  private readonly sandboxNetwork = new Map<string, SandboxNetwork>();
  private readonly containerDetailsCache = new Map<string, CriContainerStatus>();
  /**
   * Each listed item's converted status, with the details it was built from. The CRI client hands
   * back the same (frozen) item while the runtime lists it unchanged, so a steady node's relist
   * converts nothing again: no promise and no object per container and second (issue 35).
   */
  private readonly convertedSandboxes = new WeakMap<
    PodSandbox,
    { details: object; status: RuntimeSandboxStatus }
  >();
  private readonly convertedContainers = new WeakMap<
    CriContainer,
    { details: object; status: RuntimeContainerStatus }
  >();

  /**
   * Each pod as the last listPods returned it. A pod listed again with the same sandbox and
   * container objects gets this record back rather than a new one: the PLEG and the pod cache keep
   * a listing until the next relist, a second later, long enough for V8 to promote a new record
   * to the old generation each time; an unchanged pod's record is promoted once.
   */
  private readonly lastListed = new Map<string, PodRuntimeStatus>();

  constructor(
    private readonly client: CriClient,
    /** The containerID prefix of each container status ("containerd"). */
    private readonly runtimeType: string,
  ) {}

  /** Every sandbox and container the runtime holds, grouped by pod; forgets details of the gone. */
  async listPods(): Promise<PodRuntimeStatus[]> {
    const [sandboxes, containers] = await Promise.all([
      this.client.listPodSandbox({}),
      this.client.listContainers({}),
    ]);
    const pods = this.reuseUnchanged(await this.groupByPod(sandboxes.items, containers.containers));
    // Forget details of objects the runtime no longer has.
    const liveSandboxes = new Set(sandboxes.items.map((sandbox) => sandbox.id));
    const liveContainers = new Set(containers.containers.map((container) => container.id));
    for (const id of this.sandboxNetwork.keys()) if (!liveSandboxes.has(id)) this.sandboxNetwork.delete(id);
    for (const id of this.containerDetailsCache.keys())
      if (!liveContainers.has(id)) this.containerDetailsCache.delete(id);
    return pods;
  }

  /** `pods` with each unchanged pod's record from the last listing; remembers this listing. */
  private reuseUnchanged(pods: PodRuntimeStatus[]): PodRuntimeStatus[] {
    const listedNow = new Set<string>();
    for (let i = 0; i < pods.length; i++) {
      const pod = pods[i] as PodRuntimeStatus;
      listedNow.add(pod.uid);
      const before = this.lastListed.get(pod.uid);
      if (
        before &&
        sameItems(before.sandboxes, pod.sandboxes) &&
        sameItems(before.containers, pod.containers)
      )
        pods[i] = before;
      else this.lastListed.set(pod.uid, pod);
    }
    for (const uid of this.lastListed.keys()) if (!listedNow.has(uid)) this.lastListed.delete(uid);
    return pods;
  }

  /** One pod's sandboxes and containers, from list calls filtered by its uid label. */
  async podStatus(uid: string): Promise<PodRuntimeStatus | undefined> {
    const filter = { labelSelector: { [podUidLabel]: uid } };
    const [sandboxes, containers] = await Promise.all([
      this.client.listPodSandbox({ filter }),
      this.client.listContainers({ filter }),
    ]);
    // The label filter is the runtime's job; checking again keeps a lax runtime from mixing pods.
    const pods = await this.groupByPod(
      sandboxes.items.filter((sandbox) => sandbox.labels[podUidLabel] === uid),
      containers.containers.filter((container) => container.labels[podUidLabel] === uid),
    );
    return pods[0];
  }

  /** One sandbox's status (CRI PodSandboxStatus); undefined when the runtime no longer has it. */
  async podSandboxStatus(sandboxId: string): Promise<RuntimeSandboxStatus | undefined> {
    try {
      const status = (await this.client.podSandboxStatus({ podSandboxId: sandboxId })).status;
      if (!status) return undefined;
      const details = this.networkOf(status);
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
  }

  /** Drops a removed sandbox's cached network. */
  forgetSandbox(sandboxId: string): void {
    this.sandboxNetwork.delete(sandboxId);
  }

  /** Drops a removed container's cached details. */
  forgetContainer(containerId: string): void {
    this.containerDetailsCache.delete(containerId);
  }

  /** A sandbox's IPs and network mode from its status; remembered once it is ready with them. */
  private networkOf(status: CriPodSandboxStatus): SandboxNetwork {
    const details = sandboxNetworkOf(status);
    // A ready sandbox's network does not change; a not-ready one may still be coming up.
    if (status.state === PodSandboxState.SANDBOX_READY && (details.ips.length > 0 || details.hostNetwork))
      this.sandboxNetwork.set(status.id, details);
    return details;
  }

  private async sandboxDetails(id: string): Promise<SandboxNetwork | undefined> {
    const cached = this.sandboxNetwork.get(id);
    if (cached) return cached;
    try {
      const status = (await this.client.podSandboxStatus({ podSandboxId: id })).status;
      return status ? this.networkOf(status) : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The cached details of a container in a settled state (running, exited) it is still listed in. */
  private settledDetails(id: string, listedState: number): CriContainerStatus | undefined {
    const cached = this.containerDetailsCache.get(id);
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

  private async containerDetails(id: string, listedState: number): Promise<CriContainerStatus | undefined> {
    const cached = this.settledDetails(id, listedState);
    if (cached) return cached;
    try {
      const status = (await this.client.containerStatus({ containerId: id })).status ?? undefined;
      if (status) {
        // Read once, when the container is first seen exited: the cache keeps it with the details.
        status.message = await terminationMessage(status);
        this.containerDetailsCache.set(id, status);
      }
      return status;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async sandboxStatus(sandbox: PodSandbox): Promise<RuntimeSandboxStatus> {
    return toSandboxStatus(sandbox, await this.sandboxDetails(sandbox.id));
  }

  private async containerStatus(container: CriContainer): Promise<RuntimeContainerStatus> {
    return toContainerStatus(
      container,
      await this.containerDetails(container.id, container.state),
      this.runtimeType,
    );
  }

  /** The item's status without a runtime call, when its details are cached; else undefined. */
  private knownSandboxStatus(sandbox: PodSandbox): RuntimeSandboxStatus | undefined {
    const details = this.sandboxNetwork.get(sandbox.id);
    if (!details) return undefined;
    const converted = this.convertedSandboxes.get(sandbox);
    if (converted?.details === details) return converted.status;
    const status = toSandboxStatus(sandbox, details);
    this.convertedSandboxes.set(sandbox, { details, status });
    return status;
  }

  private knownContainerStatus(container: CriContainer): RuntimeContainerStatus | undefined {
    const details = this.settledDetails(container.id, container.state);
    if (!details) return undefined;
    const converted = this.convertedContainers.get(container);
    if (converted?.details === details) return converted.status;
    const status = toContainerStatus(container, details, this.runtimeType);
    this.convertedContainers.set(container, { details, status });
    return status;
  }

  /** Groups listed sandboxes and containers by pod; their details are fetched concurrently. */
  private async groupByPod(sandboxes: PodSandbox[], containers: CriContainer[]): Promise<PodRuntimeStatus[]> {
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
      const known = this.knownSandboxStatus(sandbox);
      if (known) pod.sandboxes.push(known);
      else work.push(this.sandboxStatus(sandbox).then((status) => void pod.sandboxes.push(status)));
    }
    for (const container of containers) {
      const pod = podFor(container.labels);
      if (!pod) continue;
      const known = this.knownContainerStatus(container);
      if (known) pod.containers.push(known);
      else work.push(this.containerStatus(container).then((status) => void pod.containers.push(status)));
    }
    await Promise.all(work);
    for (const pod of pods.values()) {
      pod.sandboxes.sort((a, b) => b.createdAt - a.createdAt);
      pod.containers.sort((a, b) => b.createdAt - a.createdAt);
    }
    return [...pods.values()];
  }
}

/** Whether both hold the same objects in the same order. */
function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
