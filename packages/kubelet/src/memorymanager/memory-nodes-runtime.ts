import { aroundCreateContainer } from '../cri/around-create-container';
import type { PodRuntime } from '../cri/pod-runtime';
import type { MemoryManager } from './memory-manager';

/**
 * The same runtime, except that CreateContainer carries the NUMA nodes of the container's memory
 * in LinuxContainerResources.cpuset_mems (upstream's PreCreateContainer with GetMemoryNUMANodes;
 * nothing when the memory manager gave it none), and a created container is registered with the
 * memory manager (upstream's PreStartContainer AddContainer), which releases the memory of the
 * regular init containers before it.
 */
export function withContainerMemoryNodes<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: MemoryManager,
): T {
  return aroundCreateContainer(runtime, {
    prepare: ({ podUid, name, config }) => {
      const nodes = manager.numaNodes(podUid, name);
      if (nodes.length === 0) return config;
      return {
        ...config,
        linux: { ...config.linux, resources: { ...config.linux?.resources, cpusetMems: nodes.join(',') } },
      };
    },
    created: ({ podUid, name }) => manager.addContainer(podUid, name),
  });
}
