import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { podLevelLimit, podLevelRequest } from '../api/pod-level-resources';
import type { Container, Pod } from '../api/pod-types';
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
 * What the pod asks for as a whole (upstream PodRequests/PodLimits): the sum over app
 * containers and restartable init (sidecar) containers, but at least what the largest regular
 * init container needs, since those run one at a time before the app containers.
 */
function podTotals(pod: Pod): PodTotals {
  let cpuLimitsDeclared = true;
  let memoryLimitsDeclared = true;
  const value = (container: Container) => {
    const limits = container.resources?.limits ?? {};
    const requests = container.resources?.requests ?? {};
    if (limits.cpu === undefined) cpuLimitsDeclared = false;
    if (limits.memory === undefined) memoryLimitsDeclared = false;
    const cpuLimit = limits.cpu !== undefined ? milliValue(limits.cpu) : 0;
    return {
      cpuRequest: requests.cpu !== undefined ? milliValue(requests.cpu) : cpuLimit,
      cpuLimit,
      memoryLimit: limits.memory !== undefined ? Math.ceil(parseQuantity(limits.memory)) : 0,
    };
  };
  const sum = { cpuRequest: 0, cpuLimit: 0, memoryLimit: 0 };
  const longRunning = [
    ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...pod.spec.containers,
  ];
  for (const container of longRunning) {
    const v = value(container);
    sum.cpuRequest += v.cpuRequest;
    sum.cpuLimit += v.cpuLimit;
    sum.memoryLimit += v.memoryLimit;
  }
  for (const container of (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always')) {
    const v = value(container);
    sum.cpuRequest = Math.max(sum.cpuRequest, v.cpuRequest);
    sum.cpuLimit = Math.max(sum.cpuLimit, v.cpuLimit);
    sum.memoryLimit = Math.max(sum.memoryLimit, v.memoryLimit);
  }
  return withPodLevelResources(pod, {
    cpuRequestMilli: sum.cpuRequest,
    cpuLimitMilli: sum.cpuLimit,
    memoryLimitBytes: sum.memoryLimit,
    cpuLimitsDeclared,
    memoryLimitsDeclared,
  });
}

/**
 * Upstream PodRequests/PodLimits with pod-level resources: a pod-level value replaces the containers' sum for that
 * resource (and a pod-level limit is a declared limit); the resources it leaves out keep the sum.
 */
function withPodLevelResources(pod: Pod, totals: PodTotals): PodTotals {
  const out = { ...totals };
  const cpuRequest = podLevelRequest(pod, 'cpu');
  const cpuLimit = podLevelLimit(pod, 'cpu');
  const memoryLimit = podLevelLimit(pod, 'memory');
  if (cpuRequest !== undefined) out.cpuRequestMilli = milliValue(cpuRequest, 'spec.resources.requests.cpu');
  if (cpuLimit !== undefined) {
    out.cpuLimitMilli = milliValue(cpuLimit, 'spec.resources.limits.cpu');
    out.cpuLimitsDeclared = true;
  }
  if (memoryLimit !== undefined) {
    out.memoryLimitBytes = Math.ceil(parseQuantity(memoryLimit, 'spec.resources.limits.memory'));
    out.memoryLimitsDeclared = true;
  }
  return out;
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
