import type { CriClient } from '@nodeagent/cri-client';
import { closeAllConnections } from '@nodeagent/informer/connections';
import { type Kubelet, type KubeletLogger, nodeStatusEventMessage } from '@nodeagent/kubelet';
import type { MirrorPodSync, NodeEventRecorder } from '@nodeagent/kubelet/sources';
import {
  NodeStatusReporter,
  nodeImagesFromCri,
  type RuntimeStatusFeatures,
  runtimeStatusFromCri,
} from '@nodeagent/node-status';
import type { KubeletApiClients } from './kubelet-api-clients';
import type { ResolvedKubeletOptions } from './kubelet-flags';
import { nodeRegistrationSettings } from './node-registration-settings';

/** What the node status reporter is wired to: the kubelet, the runtime, mirror pods and events. */
export interface NodeStatusWiring {
  /** Registration through the main client; status and Lease through the heartbeat client. */
  clients: Pick<KubeletApiClients, 'kube' | 'heartbeat'>;
  options: Pick<ResolvedKubeletOptions, 'config' | 'flags'>;
  nodeName: string;
  hostIPs: string[];
  kubelet: Kubelet;
  client: CriClient;
  mirrorPods: MirrorPodSync | undefined;
  recordNodeEvent: NodeEventRecorder | undefined;
  /** The node shutdown manager's ShutdownStatus, when it runs: Ready is False while the node shuts down. */
  shutdownStatus?: (() => string | undefined) | undefined;
  /** The device manager's capacity and allocatable (GetCapacity), set over the machine's. */
  extendedResources?: () => { capacity: Record<string, string>; allocatable: Record<string, string> };
  logger: KubeletLogger;
}

/**
 * Registers the Node and keeps its status and Lease up to date (NodeStatusReporter). Registration
 * retries until the API server answers; nothing else waits for it.
 */
export function startNodeStatusReporter(w: NodeStatusWiring): NodeStatusReporter {
  const { config, flags } = w.options;
  const { nodeName, kubelet, client, logger } = w;
  const reporter = new NodeStatusReporter({
    kubeConfig: w.clients.kube,
    heartbeatKubeConfig: w.clients.heartbeat,
    config: {
      nodeName,
      nodeIPs: w.hostIPs,
      nodeLabels: flags.nodeLabels,
      ...nodeRegistrationSettings(config, flags),
      nodeStatusMaxImages: config.nodeStatusMaxImages,
      nodeStatusUpdateFrequency: config.nodeStatusUpdateFrequency,
      nodeStatusReportFrequency: config.nodeStatusReportFrequency,
      nodeLeaseDurationSeconds: config.nodeLeaseDurationSeconds,
      port: config.port,
      featureGates: config.featureGates,
      rootDir: flags.rootDir,
    },
    // status.images: CRI ListImages, largest first, up to nodeStatusMaxImages.
    images: async () => nodeImagesFromCri((await client.listImages({})).images),
    extendedResources: w.extendedResources,
    // status.volumesInUse: the CSI claims' volumes the pods use (upstream's VolumesInUse setter).
    volumesInUse: () => kubelet.volumes.volumesInUse(),
    // Downward API limits.* of containers without limits resolve to the allocatable reported.
    // The first status follows registration: the Node exists, mirror pods can be created.
    onStatusUpdate: (status) => {
      kubelet.setNodeAllocatable(status.allocatable);
      w.mirrorPods?.trigger();
    },
    runtimeVersion: async () => {
      const version = await client.version();
      return { runtimeName: version.runtimeName, runtimeVersion: version.runtimeVersion };
    },
    runtimeStatus: () => criRuntimeStatus(client),
    pressure: () => kubelet.housekeeping.pressure(),
    readyChecks: [
      {
        name: 'pleg',
        check: () => {
          const health = kubelet.healthz();
          return health.ok ? undefined : health.message;
        },
      },
      // This node's CSINode not yet set up (upstream's storage errors, listed before the shutdown's).
      { name: 'storage', check: () => kubelet.storageErrors() },
      // Upstream's Ready setter lists the shutdown manager's error last.
      ...(w.shutdownStatus ? [{ name: 'nodeshutdown', check: w.shutdownStatus }] : []),
    ],
    // Node conditions set or changed: upstream's Normal 'Node <name> status is now: <reason>'.
    onConditionEvent: (reason) =>
      w.recordNodeEvent?.('Normal', reason, nodeStatusEventMessage(nodeName, reason)),
    // Logged as upstream's kubelet logs the same failures ("Failed to update lease", ...).
    onError: (error, during) => logger.error({ err: String(error) }, during),
    // Upstream's onRepeatedHeartbeatFailure: every API connection closed, so the next try (and
    // every watch) connects again instead of waiting on one whose peer is gone.
    onRepeatedHeartbeatFailure: () => closeAllConnections(w.clients.heartbeat),
  });
  void reporter.start().catch((error) => logger.error({ err: String(error) }, 'node status'));
  return reporter;
}

/** status.runtimeHandlers and status.features from CRI Status (containerd 1.6 reports neither). */
export async function criRuntimeStatus(client: Pick<CriClient, 'status'>): Promise<RuntimeStatusFeatures> {
  return runtimeStatusFromCri(await client.status({ verbose: false }));
}
