import { join } from 'node:path';
import type { Kubelet, KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import type { PodAdmitHandler } from '@nodeagent/kubelet/admission';
import {
  kubeletShutdownKill,
  kubeletWaitForUnmount,
  LogindDbus,
  type LogindInhibitor,
  NodeShutdownManager,
  registerShutdownMetrics,
  ShutdownStateFile,
  shutdownGracePeriods,
  shutdownStateFileName,
} from '@nodeagent/kubelet/eviction';
import type { NodeEventRecorder, PodEventRecorder } from '@nodeagent/kubelet/sources';
import { systemClock } from '@nodeagent/primitives';

/** Upstream's log message when the shutdown manager does not start; the kubelet runs on without it. */
export const nodeShutdownStartFailedMessage = 'Failed to start node shutdown manager';

/** What the binary's node shutdown manager is made from. */
export interface NodeShutdownWiring {
  config: Pick<
    KubeletConfiguration,
    | 'featureGates'
    | 'shutdownGracePeriod'
    | 'shutdownGracePeriodCriticalPods'
    | 'shutdownGracePeriodByPodPriority'
  >;
  rootDir: string;
  /** The kubelet's /metrics registry. */
  registry: Parameters<typeof registerShutdownMetrics>[0];
  logger: KubeletLogger;
  recordNodeEvent?: NodeEventRecorder | undefined;
  recordPodEvent?: PodEventRecorder | undefined;
  /** How logind is reached (default: LogindDbus on the system bus); tests give a fake. */
  connect?: () => Promise<LogindInhibitor>;
}

/** The node shutdown manager as the binary uses it: built before the Kubelet, started after it. */
export interface NodeShutdown {
  /** For KubeletOptions.nodeShutdownAdmission. */
  admission: PodAdmitHandler;
  /** For the Ready condition: "node is shutting down" while it does. */
  shutdownStatus(): string | undefined;
  /** Connects to logind; a failure is logged with upstream's message and the kubelet goes on. */
  start(kubelet: Kubelet, syncNodeStatus: () => void): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Upstream NewManager for the binary: nothing (shutdown is immediate) without the GracefulNodeShutdown
 * gate or without a grace period; the per-priority list only with GracefulNodeShutdownBasedOnPodPriority,
 * which also registers the kubelet_graceful_shutdown_* gauges and keeps graceful_node_shutdown_state
 * in the root directory.
 */
export function nodeShutdownForConfig(w: NodeShutdownWiring): NodeShutdown | undefined {
  const { config, logger } = w;
  const byPriority = config.featureGates.GracefulNodeShutdownBasedOnPodPriority ?? true;
  if (!(config.featureGates.GracefulNodeShutdown ?? true)) return undefined;
  const metrics = byPriority ? registerShutdownMetrics(w.registry) : undefined;
  const periods = shutdownGracePeriods({
    ...config,
    shutdownGracePeriodByPodPriority: byPriority ? config.shutdownGracePeriodByPodPriority : undefined,
  });
  if (periods.length === 0) return undefined;
  logger.info(
    {
      shutdownGracePeriodRequested: config.shutdownGracePeriod,
      shutdownGracePeriodCriticalPods: config.shutdownGracePeriodCriticalPods,
      shutdownGracePeriodByPodPriority: periods,
    },
    'Creating node shutdown manager',
  );
  let kubelet: Kubelet | undefined;
  let syncNodeStatus: () => void = () => {};
  const manager = new NodeShutdownManager({
    periods,
    connect: w.connect ?? (() => LogindDbus.connect()),
    activePods: () => kubelet?.podRequests.activePods() ?? [],
    killPod: (pod, grace) => {
      if (!kubelet) return Promise.resolve();
      return kubeletShutdownKill(
        kubelet.podRequests,
        kubelet.workers,
        systemClock,
        w.recordPodEvent,
      )(pod, grace);
    },
    waitForUnmount: (pods, signal) =>
      kubelet ? kubeletWaitForUnmount(kubelet.workers, systemClock)(pods, signal) : Promise.resolve(),
    syncNodeStatus: () => syncNodeStatus(),
    recordNodeEvent: w.recordNodeEvent,
    stateFile: byPriority ? new ShutdownStateFile(join(w.rootDir, shutdownStateFileName)) : undefined,
    metrics,
    logger,
  });
  return {
    admission: { admit: () => manager.admit() },
    shutdownStatus: () => manager.shutdownStatus(),
    async start(started, sync) {
      kubelet = started;
      syncNodeStatus = sync;
      await manager
        .start()
        .catch((error: unknown) =>
          logger.error(
            { err: error instanceof Error ? error.message : String(error) },
            nodeShutdownStartFailedMessage,
          ),
        );
    },
    stop: () => manager.stop(),
  };
}
