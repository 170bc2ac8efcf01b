import { everyNumaMask, type NumaMask } from '../topologymanager/numa-mask';
import type { TopologyHint } from '../topologymanager/topology-hint';
import { CpuSet } from './cpu-set';
import type { CpuTopology } from './cpu-topology';

/** The machine's NUMA node ids, ascending (upstream CPUDetails.NUMANodes). */
export function numaNodesOf(topology: CpuTopology): number[] {
  return [...new Set([...topology.details.values()].map((info) => info.numaNodeId))].sort((a, b) => a - b);
}

/** The CPUs of `cpus` that sit on one of the mask's NUMA nodes (upstream getAlignedCPUs without align-by-socket). */
export function cpusOnNumaNodes(topology: CpuTopology, cpus: CpuSet, mask: NumaMask): CpuSet {
  return new CpuSet(cpus.list().filter((cpu) => mask.has(topology.details.get(cpu)?.numaNodeId ?? -1)));
}

/**
 * Upstream generateCPUTopologyHints: one hint for every combination of NUMA nodes whose
 * available CPUs (plus the reusable ones, which must all lie on it) cover the request. Those
 * with the fewest nodes that could ever hold the request on this machine are preferred.
 */
export function generateCpuTopologyHints(
  topology: CpuTopology,
  available: CpuSet,
  reusable: CpuSet,
  request: number,
): TopologyHint[] {
  const nodes = numaNodesOf(topology);
  let minAffinitySize = nodes.length;
  const hints: TopologyHint[] = [];
  const nodeOf = (cpu: number) => topology.details.get(cpu)?.numaNodeId ?? -1;
  everyNumaMask(nodes, (mask) => {
    // The machine's CPUs on these nodes, free or not, set the narrowest size a hint could have.
    const cpusInMask = [...topology.details.values()].filter((info) => mask.has(info.numaNodeId)).length;
    if (cpusInMask >= request && mask.count < minAffinitySize) minAffinitySize = mask.count;
    if (!reusable.list().every((cpu) => mask.has(nodeOf(cpu)))) return;
    const matching = reusable.size + available.list().filter((cpu) => mask.has(nodeOf(cpu))).length;
    if (matching >= request) hints.push({ affinity: mask, preferred: false });
  });
  return hints.map((hint) => ({ ...hint, preferred: hint.affinity?.count === minAffinitySize }));
}
