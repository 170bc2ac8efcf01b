import { formatBinary, formatMilliCpu, milliValue, parseQuantity } from '@nodeagent/primitives';
import type { Container, ResourceList, ResourceRequirements } from './pod-types';

/** The four numbers a resize acts on, as upstream's kuberuntime compares them (milli-CPU, bytes). */
export interface ContainerResourceValues {
  cpuRequestMilli: number;
  cpuLimitMilli: number;
  memoryRequestBytes: number;
  memoryLimitBytes: number;
}

/** Upstream cm.MinShares (milli-CPU at or below which every request gets the minimum shares). */
export const minSharesMilli = 2;
/** Upstream cm.MinMilliCPULimit: limits at or below it are all the same effective limit. */
export const minMilliCpuLimit = 10;

/** The values of one container's requests and limits; an absent quantity is 0. */
export function containerResourceValues(
  resources: ResourceRequirements | undefined,
): ContainerResourceValues {
  const requests = resources?.requests ?? {};
  const limits = resources?.limits ?? {};
  return {
    cpuRequestMilli: requests.cpu === undefined ? 0 : milliValue(requests.cpu, 'resources.requests.cpu'),
    cpuLimitMilli: limits.cpu === undefined ? 0 : milliValue(limits.cpu, 'resources.limits.cpu'),
    memoryRequestBytes:
      requests.memory === undefined
        ? 0
        : Math.ceil(parseQuantity(requests.memory, 'resources.requests.memory')),
    memoryLimitBytes:
      limits.memory === undefined ? 0 : Math.ceil(parseQuantity(limits.memory, 'resources.limits.memory')),
  };
}

/**
 * Whether two lists hold the same quantities (compared by value: "1" equals "1000m"). Walks the
 * lists in place and parses only values spelled differently: admission and each pod's sync compare
 * every pod's resources, so this runs for all pods at each pod's arrival.
 */
export function resourceListsEqual(a: ResourceList | undefined, b: ResourceList | undefined): boolean {
  for (const key in a) if (a[key] === undefined || b?.[key] === undefined) return false;
  for (const key in b) {
    const left = a?.[key];
    const right = b[key];
    if (left === undefined || right === undefined) return false;
    if (left !== right && parseQuantity(left, key) !== parseQuantity(right, key)) return false;
  }
  return true;
}

/** Upstream's semantic equality of two ResourceRequirements (requests and limits, by value). */
export function resourceRequirementsEqual(
  a: ResourceRequirements | undefined,
  b: ResourceRequirements | undefined,
): boolean {
  return resourceListsEqual(a?.requests, b?.requests) && resourceListsEqual(a?.limits, b?.limits);
}

/**
 * A quantity as Go's resource.Quantity marshals it: CPU in cores or millicores ("2", "1900m"),
 * binary-suffixed values in the largest binary suffix ("64Mi"), anything else as given.
 */
export function canonicalQuantity(name: string, value: string | number): string {
  if (name === 'cpu') return formatMilliCpu(milliValue(value, name));
  if (typeof value === 'string' && /i$/.test(value)) return formatBinary(parseQuantity(value, name));
  return String(value);
}

function canonicalList(list: ResourceList | undefined): ResourceList | undefined {
  if (list === undefined) return undefined;
  const out: ResourceList = {};
  for (const key of Object.keys(list).sort()) out[key] = canonicalQuantity(key, list[key]!);
  return out;
}

/** A container's resources with canonical quantities and sorted names, limits before requests (Go's field order). */
export function canonicalResources(resources: ResourceRequirements | undefined): ResourceRequirements {
  const out: ResourceRequirements = {};
  const limits = canonicalList(resources?.limits);
  const requests = canonicalList(resources?.requests);
  if (limits && Object.keys(limits).length > 0) out.limits = limits;
  if (requests && Object.keys(requests).length > 0) out.requests = requests;
  return out;
}

/** Containers whose resources the kubelet allocates and resizes: app containers and sidecars. */
export function resizableContainers(spec: {
  containers: Container[];
  initContainers?: Container[];
}): Container[] {
  return [...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...spec.containers];
}
