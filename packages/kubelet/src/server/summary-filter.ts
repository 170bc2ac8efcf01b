import type { Summary } from '../stats/summary-types';

/**
 * /stats/summary?only_cpu_and_memory=true: the node, its pods and their containers reduced to
 * cpu and memory (what metrics-server asks for).
 */
export function cpuAndMemoryOnly(summary: Summary): Summary {
  const { node } = summary;
  return {
    node: { nodeName: node.nodeName, startTime: node.startTime, cpu: node.cpu, memory: node.memory },
    pods: summary.pods.map((pod) => ({
      podRef: pod.podRef,
      startTime: pod.startTime,
      cpu: pod.cpu,
      memory: pod.memory,
      containers: pod.containers.map((c) => ({
        name: c.name,
        startTime: c.startTime,
        cpu: c.cpu,
        memory: c.memory,
      })),
    })),
  };
}
