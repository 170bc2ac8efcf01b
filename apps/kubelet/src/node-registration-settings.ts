import type { V1Taint } from '@kubernetes/client-node';
import type { KubeletConfiguration } from '@nodeagent/kubelet';
import { computeCapacity, type MachineInfo, readMachineInfo } from '@nodeagent/node-status';
import type { KubeletFlags } from './kubelet-flags';

/** The taint upstream registers a node with under --cloud-provider=external, until a cloud controller initializes it. */
export const uninitializedTaint: V1Taint = {
  key: 'node.cloudprovider.kubernetes.io/uninitialized',
  value: 'true',
  effect: 'NoSchedule',
};

/**
 * The KubeletConfiguration fields and flags that shape the Node object and its allocatable, in
 * node-status's terms: allocatable = capacity − kubeReserved − systemReserved − hard eviction
 * thresholds; pods = min(maxPods, podsPerCore × cores); ephemeral-storage only with
 * localStorageCapacityIsolation; spec.providerID; the registration taints.
 */
export function nodeRegistrationSettings(
  config: KubeletConfiguration,
  flags: Pick<KubeletFlags, 'cloudProvider'>,
) {
  return {
    registerWithTaints: [
      ...config.registerWithTaints,
      ...(flags.cloudProvider === 'external' ? [uninitializedTaint] : []),
    ],
    maxPods: config.maxPods,
    podsPerCore: config.podsPerCore,
    kubeReserved: config.kubeReserved,
    systemReserved: config.systemReserved,
    evictionHard: config.evictionHard,
    localStorageCapacityIsolation: config.localStorageCapacityIsolation,
    providerID: config.providerID,
  };
}

/** How many pods the node admits: maxPods, capped by podsPerCore × cores when that is set. */
export function podCapacity(
  config: Pick<KubeletConfiguration, 'maxPods' | 'podsPerCore'>,
  cores: number,
): number {
  return config.podsPerCore > 0 ? Math.min(config.maxPods, config.podsPerCore * cores) : config.maxPods;
}

/**
 * The node's allocatable as this kubelet computes it for the Node it registers, from the machine
 * alone: the node's own view (upstream's initialNode, which getNodeAnyWay falls back to) that
 * static pods start with while the API server is not reachable.
 */
export async function localNodeAllocatable(
  config: KubeletConfiguration,
  flags: Pick<KubeletFlags, 'cloudProvider' | 'rootDir'>,
  machine: () => Promise<MachineInfo> = () => readMachineInfo({ rootDir: flags.rootDir }),
): Promise<Record<string, string>> {
  const settings = nodeRegistrationSettings(config, flags);
  return computeCapacity({ machine: await machine(), ...settings }).allocatable;
}
