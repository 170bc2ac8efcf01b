import { podResourceLimit, podResourceRequest } from '../api/pod-requests';
import type { Pod } from '../api/pod-types';
import { podQOSClass } from '../api/qos-class';
import { milliCPUToQuota, milliCPUToShares, minShares, quotaPeriodUs } from '../cri/linux-resources';
import type { CgroupResources } from './cgroup-resources';

/** KubeletConfiguration fields that shape a pod cgroup's CPU quota and pids limit. */
export interface PodResourceConfigOptions {
  /** KubeletConfiguration.cpuCFSQuota: false leaves pod CPU unthrottled. */
  cpuCFSQuota?: boolean;
  /** KubeletConfiguration.cpuCFSQuotaPeriod in microseconds. */
  cpuCFSQuotaPeriodUs?: number;
  /** KubeletConfiguration.podPidsLimit; -1 (or absent) means no pod limit. */
  podPidsLimit?: number;
}

interface PodTotals {
  cpuRequestMilli: number;
  cpuLimitMilli: number;
  memoryLimitBytes: number;
  cpuLimitsDeclared: boolean;
  memoryLimitsDeclared: boolean;
}

/**
 * What the pod asks for as a whole (upstream ResourceConfigForPod's PodRequests and PodLimits,
 * overhead included), and whether every container declares a limit.
 */
function podTotals(pod: Pod): PodTotals {
  const cpuLimit = podResourceLimit(pod, 'cpu');
  const memoryLimit = podResourceLimit(pod, 'memory');
  return {
    cpuRequestMilli: podResourceRequest(pod, 'cpu'),
    cpuLimitMilli: cpuLimit.value,
    memoryLimitBytes: memoryLimit.value,
    cpuLimitsDeclared: cpuLimit.declared,
    memoryLimitsDeclared: memoryLimit.declared,
  };
}

/** The pod's CPU request in millicores (upstream PodRequests[cpu]), e.g. for the burstable QoS shares. */
export function podCPURequestMilli(pod: Pod): number {
  return podTotals(pod).cpuRequestMilli;
}

/**
 * Upstream ResourceConfigForPod: the limits on the pod-level cgroup. Guaranteed pods get
 * shares, quota and a memory limit; burstable pods get shares plus whichever limits every
 * container declares; best-effort pods get the minimum shares. pids.max comes from podPidsLimit.
 */
export function podResourceConfig(pod: Pod, options: PodResourceConfigOptions = {}): CgroupResources {
  const totals = podTotals(pod);
  const qos = podQOSClass(pod);
  const period = options.cpuCFSQuotaPeriodUs ?? quotaPeriodUs;
  const enforceCPU = options.cpuCFSQuota ?? true;
  const out: CgroupResources = {};
  if (qos === 'BestEffort') {
    out.cpuShares = minShares;
  } else {
    out.cpuShares = milliCPUToShares(totals.cpuRequestMilli);
    if (qos === 'Guaranteed' || totals.cpuLimitsDeclared) {
      out.cpuPeriodUs = period;
      out.cpuQuotaUs = enforceCPU ? milliCPUToQuota(totals.cpuLimitMilli, period) : -1;
    }
    if (qos === 'Guaranteed' || totals.memoryLimitsDeclared) out.memoryLimitBytes = totals.memoryLimitBytes;
  }
  if (options.podPidsLimit !== undefined && options.podPidsLimit > 0) out.pidsLimit = options.podPidsLimit;
  return out;
}
