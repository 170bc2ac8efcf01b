import { join } from 'node:path';
import type { KubeletConfiguration, KubeletLogger } from '@nodeagent/kubelet';
import type { Pod, PodStatus } from '@nodeagent/kubelet/api';
import {
  type CpuManager,
  DeviceManager,
  type DeviceManagerOptions,
  type MemoryManager,
  PodResourcesServer,
  type PodResourcesServerOptions,
  podResourcesSocketName,
  readNumaNodes,
  type TopologyManager,
} from '@nodeagent/kubelet/runtime';

/**
 * Upstream's NewContainerManager for the device manager: built over `<root-dir>/device-plugins`
 * and added to the topology manager as its first hint provider (upstream's order), with the
 * machine's NUMA nodes for its hints when the topology policy aligns anything.
 */
export function deviceManagerForConfig(
  config: KubeletConfiguration,
  rootDir: string,
  topologyManager: TopologyManager,
  registry: DeviceManagerOptions['registry'],
  logger: KubeletLogger,
): DeviceManager {
  const socket = join(rootDir, 'device-plugins', 'kubelet.sock');
  logger.info({ path: socket }, 'Creating Device Plugin manager');
  const manager = new DeviceManager({
    pluginDir: join(rootDir, 'device-plugins'),
    numaNodes: config.topologyManagerPolicy === 'none' ? [] : readNumaNodes().map((node) => node.id),
    // Pods restored from the checkpoint keep their devices until every pod source has listed.
    waitForSources: true,
    registry,
    logger,
  });
  topologyManager.addHintProvider(manager);
  return manager;
}

/** The pods the device manager counts as holding devices: the kubelet's pods not in a terminal phase. */
export function activePods(kubelet: {
  getPods(): Pod[];
  getPodStatus(uid: string): PodStatus | undefined;
}): () => Pod[] {
  return () =>
    kubelet.getPods().filter((pod) => {
      const phase = kubelet.getPodStatus(pod.metadata.uid ?? '')?.phase;
      return phase !== 'Succeeded' && phase !== 'Failed';
    });
}

/**
 * Upstream's ListenAndServePodResources: the pod-resources API v1 on
 * `<root-dir>/pod-resources/kubelet.sock`, with upstream's rate limit (100 a second, bursts of 10).
 */
export async function startPodResourcesServer(
  rootDir: string,
  w: {
    pods: () => Pod[];
    devices: DeviceManager;
    cpus: CpuManager;
    /** The memory manager: containers' memory blocks (Static policy). */
    memory?: MemoryManager;
    /** The DRA manager: containers' prepared ResourceClaims (DynamicResources). */
    claims?: PodResourcesServerOptions['dynamicResources'];
    registry: DeviceManagerOptions['registry'];
  },
  logger: KubeletLogger,
): Promise<PodResourcesServer> {
  const server = new PodResourcesServer({
    pods: { activePods: w.pods },
    devices: w.devices,
    cpus: w.cpus,
    memory: w.memory,
    dynamicResources: w.claims,
    registry: w.registry,
  });
  const socket = join(rootDir, 'pod-resources', podResourcesSocketName);
  logger.info({ qps: 100, burstTokens: 10 }, 'Setting rate limiting for podresources endpoint');
  await server.start(socket);
  return server;
}
