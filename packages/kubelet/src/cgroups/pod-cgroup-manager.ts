import type { Pod } from '../api/pod-types';
import { podQOSClass, type QOSClass } from '../api/qos-class';
import { milliCPUToShares, minShares } from '../cri/linux-resources';
import type { CgroupFilesystem } from './cgroup-filesystem';
import {
  besteffortCgroupComponent,
  burstableCgroupComponent,
  type CgroupDriverName,
  type CgroupName,
  filesystemPath,
  parseCgroupRoot,
  podCgroupPrefix,
  podsCgroupComponent,
  runtimeCgroupName,
} from './cgroup-name';
import {
  type NodeMemoryProtection,
  nodeMemoryProtection,
  type PodMemoryQoS,
  podMemoryProtection,
  qosMemoryProtection,
} from './memory-qos';
import { type PodResourceConfigOptions, podCPURequestMilli, podResourceConfig } from './pod-resource-config';
import { type QOSMemoryLimits, type QOSMemoryReserve, qosMemoryLimits } from './qos-memory-reserve';

/** The cgroup filesystem and KubeletConfiguration fields a PodCgroupManager works with. */
export interface PodCgroupManagerOptions extends PodResourceConfigOptions {
  /** The cgroup filesystem to create pod cgroups in, e.g. from detectCgroupFilesystem(). */
  fs: CgroupFilesystem;
  /** KubeletConfiguration.cgroupDriver; must match the runtime's (containerd's SystemdCgroup). */
  cgroupDriver: CgroupDriverName;
  /** KubeletConfiguration.cgroupRoot ("" or "/" for the hierarchy root). */
  cgroupRoot: string;
  /** Set when the MemoryQoS gate is on: memory.min / memory.low on pod and QoS cgroups, on cgroup v2 only (as upstream). */
  memoryQoS?: PodMemoryQoS;
  /** Set when the QOSReserved gate is on and qosReserved names memory: the lower QoS cgroups' memory limits. */
  qosMemoryReserve?: QOSMemoryReserve;
}

/**
 * Upstream qosContainerManager + podContainerManager for cgroupsPerQOS: keeps the
 * kubepods / kubepods/burstable / kubepods/besteffort hierarchy, gives every pod a cgroup
 * pod<uid> under its QoS parent (guaranteed pods sit directly under kubepods) with the pod's
 * cpu, memory and pids limits, tells the runtime that cgroup as the sandbox's cgroup parent,
 * and removes pod cgroups once their pods are gone.
 */
export class PodCgroupManager {
  readonly fs: CgroupFilesystem;
  readonly driver: CgroupDriverName;
  readonly podsCgroup: CgroupName;
  private readonly options: PodCgroupManagerOptions;

  constructor(options: PodCgroupManagerOptions) {
    this.options = options;
    this.fs = options.fs;
    this.driver = options.cgroupDriver;
    this.podsCgroup = [...parseCgroupRoot(options.cgroupRoot, options.cgroupDriver), podsCgroupComponent];
  }

  /** The QoS class's parent cgroup (kubepods for guaranteed pods). */
  qosCgroup(qos: QOSClass): CgroupName {
    if (qos === 'Burstable') return [...this.podsCgroup, burstableCgroupComponent];
    if (qos === 'BestEffort') return [...this.podsCgroup, besteffortCgroupComponent];
    return this.podsCgroup;
  }

  /** The pod's cgroup name: `pod<uid>` under its QoS class's cgroup (directly under `kubepods` for Guaranteed). */
  podCgroup(pod: Pod): CgroupName {
    return [...this.qosCgroup(podQOSClass(pod)), `${podCgroupPrefix}${pod.metadata.uid ?? ''}`];
  }

  /** The pod's cgroup as the runtime names it: the CRI sandbox's cgroup_parent. */
  cgroupParent(pod: Pod): string {
    return runtimeCgroupName(this.podCgroup(pod), this.driver);
  }

  /** The pod cgroup's directory under each hierarchy root. */
  podCgroupPath(pod: Pod): string {
    return filesystemPath(this.podCgroup(pod), this.driver);
  }

  /** Creates the QoS hierarchy; best-effort pods share the minimum CPU weight (upstream). */
  async start(): Promise<void> {
    await this.fs.ensure(filesystemPath(this.podsCgroup, this.driver));
    await this.fs.ensure(filesystemPath(this.qosCgroup('Burstable'), this.driver));
    await this.fs.ensure(filesystemPath(this.qosCgroup('BestEffort'), this.driver), { cpuShares: minShares });
  }

  /**
   * Upstream qosContainerManager.UpdateCgroups: the burstable tier's shares are the sum of its
   * pods' CPU requests, best-effort stays at the minimum; with qosMemoryReserve the two tiers'
   * memory limits leave the higher classes their reserved share. With MemoryQoS enforced
   * (the gate on, cgroup v2) it also writes the QoS cgroups' protection and returns the node's
   * totals for the kubelet_memory_qos_node_* gauges; undefined otherwise.
   */
  async updateQOSCgroups(activePods: readonly Pod[]): Promise<NodeMemoryProtection | undefined> {
    let burstableMilli = 0;
    for (const pod of activePods)
      if (podQOSClass(pod) === 'Burstable') burstableMilli += podCPURequestMilli(pod);
    // MemoryQoS: kubepods (the Guaranteed tier) and burstable protect what their pods request.
    const memoryQoS = this.memoryQoS();
    const memory = memoryQoS ? qosMemoryProtection(activePods, memoryQoS.reservationPolicy) : undefined;
    if (memory)
      await this.fs.ensure(filesystemPath(this.qosCgroup('Guaranteed'), this.driver), {
        unified: memory.guaranteed,
      });
    const reserve = this.options.qosMemoryReserve;
    const limits = reserve ? qosMemoryLimits(activePods, reserve) : undefined;
    const write = (limit: QOSMemoryLimits | undefined) =>
      Promise.all([
        this.fs.ensure(filesystemPath(this.qosCgroup('Burstable'), this.driver), {
          cpuShares: milliCPUToShares(burstableMilli),
          ...(memory ? { unified: memory.burstable } : {}),
          ...(limit ? { memoryLimitBytes: limit.burstable } : {}),
        }),
        this.fs.ensure(filesystemPath(this.qosCgroup('BestEffort'), this.driver), {
          cpuShares: minShares,
          ...(limit ? { memoryLimitBytes: limit.besteffort } : {}),
        }),
      ]);
    // Upstream retrySetMemoryReserve: a limit below what a tier already uses is refused by the
    // kernel (cgroup v1), so that tier is held at its usage instead, to stop it from growing.
    await write(limits).catch(async (error: unknown) => {
      if (!limits) throw error;
      await write(await this.limitsAtLeastUsage(limits));
    });
    return memoryQoS ? nodeMemoryProtection(activePods, memoryQoS.reservationPolicy) : undefined;
  }

  /** Each QoS tier's limit raised to its current memory usage where the usage is above it. */
  private async limitsAtLeastUsage(limits: QOSMemoryLimits): Promise<QOSMemoryLimits> {
    const usageFile = this.fs.version === 2 ? 'memory.current' : 'memory.usage_in_bytes';
    const usage = async (qos: QOSClass) =>
      Number(await this.fs.read(filesystemPath(this.qosCgroup(qos), this.driver), usageFile));
    return {
      burstable: Math.max(limits.burstable, await usage('Burstable')),
      besteffort: Math.max(limits.besteffort, await usage('BestEffort')),
    };
  }

  /** Creates or updates the pod's cgroup with its limits; returns the CRI cgroup parent. */
  async ensurePod(pod: Pod): Promise<string> {
    const resources = podResourceConfig(pod, this.options);
    const memoryQoS = this.memoryQoS();
    if (memoryQoS) resources.unified = podMemoryProtection(pod, memoryQoS.reservationPolicy);
    await this.fs.ensure(this.podCgroupPath(pod), resources);
    return this.cgroupParent(pod);
  }

  /** MemoryQoS when upstream enforces it: the gate on and the hierarchy cgroup v2 (on v1 the gate changes nothing). */
  private memoryQoS(): PodMemoryQoS | undefined {
    return this.fs.version === 2 ? this.options.memoryQoS : undefined;
  }

  /** Removes the pod's cgroup wherever its QoS class put it (the class is not known any more). */
  async removePod(uid: string): Promise<void> {
    for (const qos of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      await this.fs.remove(filesystemPath([...this.qosCgroup(qos), `${podCgroupPrefix}${uid}`], this.driver));
    }
  }

  /** Uids of every pod cgroup present under the QoS hierarchy. */
  async podUids(): Promise<string[]> {
    const uids = new Set<string>();
    for (const qos of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      for (const child of await this.fs.children(filesystemPath(this.qosCgroup(qos), this.driver))) {
        const uid = this.uidFromChild(child);
        if (uid !== undefined) uids.add(uid);
      }
    }
    return [...uids];
  }

  /**
   * Upstream cleanupOrphanedPodCgroups: removes the cgroups of pods that are neither known nor
   * still running. Failures (a cgroup still holding processes) are retried next time.
   */
  async removeOrphans(keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const uid of await this.podUids()) {
      if (keep.has(uid)) continue;
      try {
        await this.removePod(uid);
        removed.push(uid);
      } catch {
        // still busy: next housekeeping round
      }
    }
    return removed;
  }

  private uidFromChild(child: string): string | undefined {
    if (this.driver === 'systemd') {
      const match = /-pod([^-]+)\.slice$/.exec(child);
      return match ? match[1]!.replaceAll('_', '-') : undefined;
    }
    return child.startsWith(podCgroupPrefix) ? child.slice(podCgroupPrefix.length) : undefined;
  }
}
