import type { CriClient } from '@nodeagent/cri-client';
import type { Pod } from './api/pod-types';
import type { PodCgroupManager } from './cgroups/pod-cgroup-manager';
import { podCgroupRuntime } from './cgroups/pod-cgroup-runtime';
import type { KubeletConfiguration } from './config/kubelet-configuration';
import { criPodRuntime } from './cri/cri-pod-runtime';
import { instrumentCriClient, type RuntimeOperationMetrics } from './cri/instrumented-cri';
import type { PodRuntime } from './cri/pod-runtime';
import { imagePullConcurrency, limitImagePulls } from './images/image-pull-limit';
import { throttleImagePulls } from './images/image-pull-throttle';
import type { LogRotationRuntime } from './logs/container-log-manager';
import { reportingContainerStarts } from './logs/container-start-hook';
import type { CriStatsSource } from './stats/cri-stats-source';

/*
 * The container runtime as the kubelet uses it, composed here and nowhere else. Outermost first:
 *
 *   the pod's cgroup becomes its sandbox's parent (cgroupsPerQOS)                 podRuntimeStack
 *   → image pulls wait for a slot (serializeImagePulls, maxParallelImagePulls)    podRuntimeStack
 *   → then take a registryPullQPS token or fail ("pull QPS exceeded")             podRuntimeStack
 *   → criPodRuntime: the PodRuntime seam over CRI                                 criRuntimeStack
 *   → each StartContainer that succeeds is reported (the container log manager)   criRuntimeStack
 *   → each CRI call counted where it leaves (runtime_operations_*)                criRuntimeStack
 *   → the connected CRI client
 *
 * The CRI half is built by the executable (it owns the connection and the log manager); the pod
 * half by the Kubelet (the cgroup layer looks pods up in its pod state). Everything that reads
 * the runtime besides the pod syncs (stats, container logs, images, the server's streaming and
 * debug handlers, node status) reads `cri`, the same instrumented client the pods run through.
 */

/** What the readers beside the pod syncs need of the runtime; the stack's `cri` is each of them. */
export type RuntimeReaders = CriClient & CriStatsSource & LogRotationRuntime;

/** The CRI half of the stack: one instrumented client for every reader, and the pods' runtime over it. */
export interface CriRuntimeStack {
  /** The instrumented client: stats, logs, images, the server and node status read the runtime here. */
  readonly cri: RuntimeReaders;
  /** The pods' runtime over the same client (the Kubelet adds its pod layers with podRuntimeStack). */
  readonly runtime: PodRuntime;
  /** Calls `listener` with each container id a StartContainer started (e.g. ContainerLogManager.containerStarted). */
  onContainerStarted(listener: (containerId: string) => void): void;
}

/** Wraps a connected CRI client: counted calls, reported starts, the PodRuntime seam. */
export function criRuntimeStack(
  client: CriClient,
  options: { metrics: RuntimeOperationMetrics; runtimeType?: string },
): CriRuntimeStack {
  const cri = instrumentCriClient(client, options.metrics);
  const listeners: ((containerId: string) => void)[] = [];
  const reporting = reportingContainerStarts(cri, (id) => {
    for (const listener of listeners) listener(id);
  });
  return {
    cri,
    runtime: criPodRuntime(reporting, { runtimeType: options.runtimeType }),
    onContainerStarted: (listener) => listeners.push(listener),
  };
}

/** The pod half of the stack, over any PodRuntime (criRuntimeStack's, or a test's). */
export function podRuntimeStack(
  runtime: PodRuntime,
  options: {
    config: Pick<
      KubeletConfiguration,
      'serializeImagePulls' | 'maxParallelImagePulls' | 'registryPullQPS' | 'registryBurst'
    >;
    /** The clock registryPullQPS's bucket refills by (the kubelet's). */
    now: () => number;
    /** cgroupsPerQOS: pods get pod<uid> cgroups as their sandbox's cgroup parent. */
    cgroups?: PodCgroupManager;
    /** The pod a sandbox belongs to (the cgroup layer's lookup). */
    podOf: (uid: string) => Pod | undefined;
  },
): PodRuntime {
  const throttled = throttleImagePulls(runtime, options.config, options.now);
  const pullLimited = limitImagePulls(throttled, imagePullConcurrency(options.config));
  return options.cgroups ? podCgroupRuntime(pullLimited, options.cgroups, options.podOf) : pullLimited;
}
