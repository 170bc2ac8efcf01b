// CRI list items and status details → the runtime state the PLEG and the pod sync read.

import {
  type Container as CriContainer,
  ContainerState as CriContainerState,
  type ContainerStatus as CriContainerStatus,
  type PodSandboxStatus as CriPodSandboxStatus,
  NamespaceMode,
  type PodSandbox,
  PodSandboxState,
} from '@nodeagent/cri-client/types';
import { containerHashAnnotation, containerNameLabel, containerRestartCountAnnotation } from './labels';
import type { ContainerRuntimeState, RuntimeContainerStatus, RuntimeSandboxStatus } from './runtime-state';

/** A sandbox's IPs and network mode, as its CRI PodSandboxStatus reports them. */
export interface SandboxNetwork {
  /** The primary IP first, then the additional ones; none until the network is up. */
  ips: string[];
  /** The sandbox shares the node's network namespace. */
  hostNetwork: boolean;
}

/** CRI timestamps are nanoseconds since the epoch; the runtime state keeps milliseconds. */
export const nsToMs = (ns: bigint) => Number(ns / 1_000_000n);

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

/** The IPs and network mode a CRI PodSandboxStatus reports. */
export function sandboxNetworkOf(status: CriPodSandboxStatus): SandboxNetwork {
  const ips = status.network?.ip
    ? [status.network.ip, ...status.network.additionalIps.map((ip) => ip.ip)]
    : [];
  const hostNetwork = status.linux?.namespaces?.options?.network === NamespaceMode.NODE;
  return { ips, hostNetwork };
}

/** A listed sandbox's status, with its network when known (none: no IPs, not host network). */
export function toSandboxStatus(
  sandbox: PodSandbox,
  details: SandboxNetwork | undefined,
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

/**
 * A listed container's status: identity from its labels and annotations, times, exit code and
 * reason from its ContainerStatus details when there are some (their state wins over the listed one).
 */
export function toContainerStatus(
  container: CriContainer,
  details: CriContainerStatus | undefined,
  runtimeType: string,
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
    const linux = details.user?.linux;
    if (linux)
      status.user = {
        uid: Number(linux.uid),
        gid: Number(linux.gid),
        supplementalGroups: linux.supplementalGroups.map(Number),
      };
  }
  return status;
}
