/**
 * Limits the kubelet writes on QoS and pod cgroups (upstream ResourceConfig). Absent fields are
 * left as the kernel has them.
 */
export interface CgroupResources {
  /** cgroup v1 cpu.shares (converted to cpu.weight on v2). */
  cpuShares?: number;
  /** CFS quota in microseconds per period; -1 means unlimited. */
  cpuQuotaUs?: number;
  cpuPeriodUs?: number;
  /** Bytes; -1 means unlimited. */
  memoryLimitBytes?: number;
  /** pids.max; -1 means unlimited. */
  pidsLimit?: number;
  /**
   * cgroup v2 files written as given (upstream ResourceConfig.Unified), e.g. MemoryQoS's
   * memory.min and memory.low; only set on cgroup v2 hosts, and left unwritten on v1.
   */
  unified?: Readonly<Record<string, string>>;
}

/** Upstream CpuSharesToCpuWeight: v1 shares [2, 262144] onto v2 weight [1, 10000]. */
export function cpuSharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}
