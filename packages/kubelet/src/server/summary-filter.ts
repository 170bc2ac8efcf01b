import type { Summary } from '../stats/summary-types';

/**
 * /stats/summary?only_cpu_and_memory=true: the node, its pods and their containers reduced to
 * cpu, memory and swap (what metrics-server asks for; upstream GetCPUAndMemoryStats keeps swap).
 */
export function cpuAndMemoryOnly(summary: Summary): Summary {
  const { node } = summary;
  return {
    node: {
      nodeName: node.nodeName,
      startTime: node.startTime,
      cpu: node.cpu,
      memory: node.memory,
      swap: node.swap,
    },
    pods: summary.pods.map((pod) => ({
      podRef: pod.podRef,
      startTime: pod.startTime,
      cpu: pod.cpu,
      memory: pod.memory,
      swap: pod.swap,
      containers: pod.containers.map((c) => ({
        name: c.name,
        startTime: c.startTime,
        cpu: c.cpu,
        memory: c.memory,
        swap: c.swap,
      })),
    })),
  };
}
