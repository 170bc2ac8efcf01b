import type { CgroupFilesystem } from './cgroup-filesystem';
import type { CgroupResources } from './cgroup-resources';

/** The resources a pod cgroup resize acts on. */
export type CgroupResizeResource = 'cpu' | 'memory';

/** The pod cgroup's current CPU and memory settings, read back from the cgroup files. */
export interface PodCgroupConfig {
  cpuShares: number;
  /** -1: unlimited. */
  cpuQuotaUs: number;
  cpuPeriodUs: number;
  /** -1: unlimited. */
  memoryLimitBytes: number;
}

/** cgroup v1's "no limit" for memory.limit_in_bytes (PAGE_COUNTER_MAX pages, rounded down). */
const v1Unlimited = 2n ** 62n;

async function readNumber(fs: CgroupFilesystem, path: string, file: string): Promise<number> {
  const text = await fs.read(path, file);
  if (text === 'max') return -1;
  const value = BigInt(text);
  return value >= v1Unlimited ? -1 : Number(value);
}

/** Upstream GetPodCgroupConfig for cpu and memory, on cgroup v1 or v2. */
export async function readPodCgroupConfig(fs: CgroupFilesystem, path: string): Promise<PodCgroupConfig> {
  if (fs.version === 1) {
    return {
      cpuShares: await readNumber(fs, path, 'cpu.shares'),
      cpuQuotaUs: await readNumber(fs, path, 'cpu.cfs_quota_us'),
      cpuPeriodUs: await readNumber(fs, path, 'cpu.cfs_period_us'),
      memoryLimitBytes: await readNumber(fs, path, 'memory.limit_in_bytes'),
    };
  }
  const weight = Number(await fs.read(path, 'cpu.weight'));
  const [quota = 'max', period = '100000'] = (await fs.read(path, 'cpu.max')).split(' ');
  return {
    // The inverse of CpuSharesToCpuWeight, as upstream reads shares back from cpu.weight.
    cpuShares: Math.floor(((weight - 1) * 262142) / 9999 + 2),
    cpuQuotaUs: quota === 'max' ? -1 : Number(quota),
    cpuPeriodUs: Number(period),
    memoryLimitBytes: await readNumber(fs, path, 'memory.max'),
  };
}

/** The pod cgroup's memory usage (upstream GetPodCgroupMemoryUsage). */
export async function readPodMemoryUsage(fs: CgroupFilesystem, path: string): Promise<number> {
  return readNumber(fs, path, fs.version === 1 ? 'memory.usage_in_bytes' : 'memory.current');
}

/** A resize that cannot be applied now; the next sync tries again. */
export class PodResizeActuationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodResizeActuationError';
  }
}

export interface PodCgroupResizeInput {
  fs: CgroupFilesystem;
  /** The pod cgroup's directory under each hierarchy root. */
  path: string;
  podName: string;
  /** What the pod cgroup must hold for the allocated resources (podResourceConfig). */
  target: CgroupResources;
  /** Per resource: whether containers need updating, or the pod cgroup alone (a restarting container). */
  resources: CgroupResizeResource[];
  /** Updates the containers for one resource, in order; throws to stop the resize here. */
  updateContainers(resource: CgroupResizeResource): Promise<void>;
}

/**
 * Upstream doPodResizeAction: memory, then CPU. For each, a pod cgroup limit that grows is
 * raised before the containers are updated and one that shrinks is lowered after them (the
 * containers always fit inside the pod); CPU shares (the requests) likewise. A memory limit at or
 * below what the pod uses now is refused before anything is written. A failure stops the resize
 * where it is; the next sync resumes from what the files then say.
 */
export async function resizePodCgroup(input: PodCgroupResizeInput): Promise<void> {
  const { fs, path, target } = input;
  const current = await readPodCgroupConfig(fs, path);
  if (input.resources.includes('memory')) {
    let memory = current.memoryLimitBytes;
    if (target.memoryLimitBytes !== undefined && target.memoryLimitBytes >= 0) {
      const usage = await readPodMemoryUsage(fs, path);
      if (usage >= target.memoryLimitBytes)
        throw new PodResizeActuationError(
          `aborting attempt to set pod memory limit less than current memory usage for pod ${input.podName}`,
        );
      memory = target.memoryLimitBytes;
    }
    // Unlimited (-1) grows past any number.
    const grows = current.memoryLimitBytes !== -1 && (memory === -1 || memory > current.memoryLimitBytes);
    const shrinks = memory !== -1 && (current.memoryLimitBytes === -1 || memory < current.memoryLimitBytes);
    if (grows) await fs.ensure(path, { memoryLimitBytes: memory });
    await input.updateContainers('memory');
    if (shrinks) await fs.ensure(path, { memoryLimitBytes: memory });
  }
  if (input.resources.includes('cpu')) {
    const quota = target.cpuQuotaUs ?? current.cpuQuotaUs;
    const shares = target.cpuShares ?? current.cpuShares;
    const period = target.cpuPeriodUs ?? current.cpuPeriodUs;
    const quotaGrows = current.cpuQuotaUs !== -1 && (quota === -1 || quota > current.cpuQuotaUs);
    const quotaShrinks = quota !== -1 && (current.cpuQuotaUs === -1 || quota < current.cpuQuotaUs);
    if (quotaGrows) await fs.ensure(path, { cpuPeriodUs: period, cpuQuotaUs: quota });
    if (shares > current.cpuShares) await fs.ensure(path, { cpuShares: shares });
    await input.updateContainers('cpu');
    if (shares < current.cpuShares) await fs.ensure(path, { cpuShares: shares });
    if (quotaShrinks) await fs.ensure(path, { cpuPeriodUs: period, cpuQuotaUs: quota });
  }
}
