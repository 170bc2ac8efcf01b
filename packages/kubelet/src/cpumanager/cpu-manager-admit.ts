import type { PodAdmitHandler } from '../admission/admit-handler';
import { TopologyManager } from '../topologymanager/topology-manager';
import type { CpuManager } from './cpu-manager';

/**
 * The resource-allocation admit handler of a kubelet whose topology manager has its default none
 * policy: every container's CPUs are allocated as the pod is admitted, a refusal giving upstream's
 * reason and message (admission.GetPodAdmitResult). The binary builds its TopologyManager from
 * the configuration instead (topologyManagerFromConfig).
 */
export function cpuManagerAdmitHandler(manager: CpuManager): PodAdmitHandler {
  const topology = new TopologyManager({
    policyName: 'none',
    scopeName: 'container',
    policyOptions: {},
    numaNodes: () => [],
  });
  topology.addHintProvider(manager);
  return topology;
}
