import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { hasPodLevelResources, podLevelLimit, podLevelRequest } from './pod-level-resources';
import type { Container, Pod } from './pod-types';

/** A pod's CPU (millicores) and memory (bytes) requests. */
export interface PodRequests {
  cpuMilli: number;
  memoryBytes: number;
}

/** Upstream PodResourcesOptions, the two options the kubelet's callers set. */
export interface PodResourcesOptions {
  /** Leave spec.overhead out (eviction adds it itself, only to a non-zero request). */
  excludeOverhead?: boolean;
  /** Only the pod-level values count (eviction, for a pod with pod-level resources). */
  skipContainerLevelResources?: boolean;
}

/**
 * A quantity in the unit the kubelet compares it in: millicores for cpu, whole units (bytes,
 * pages, counts) rounded up for everything else.
 */
function quantityValue(name: string, raw: string | number, field: string): number {
  return name === 'cpu' ? milliValue(raw, field) : Math.ceil(parseQuantity(raw, field));
}

/**
 * One container's request for `name`. The API server's defaulting (SetDefaults_Pod) copies a
 * limit into a missing request; static pods' manifests reach us without that pass, so it is
 * applied here, where every request is read.
 */
function containerRequest(container: Container, name: string): number {
  const raw = container.resources?.requests?.[name] ?? container.resources?.limits?.[name];
  return raw === undefined ? 0 : quantityValue(name, raw, `resources.requests.${name}`);
}

function containerLimit(container: Container, name: string): number {
  const raw = container.resources?.limits?.[name];
  return raw === undefined ? 0 : quantityValue(name, raw, `resources.limits.${name}`);
}

/**
 * Upstream AggregateContainerRequests / AggregateContainerLimits for one resource: app
 * containers and sidecars (restartable init containers) add up; a regular init container runs
 * beside the sidecars started before it, so the pod needs at least that sum. Each value the
 * pod is sized from (a container's own, a sidecar's running total, an init container's with
 * the sidecars before it) is also handed to `each`, as upstream's ContainerFn sees them.
 */
function aggregateContainers(
  pod: Pod,
  value: (container: Container) => number,
  each?: (value: number) => void,
): number {
  let sum = 0;
  let sidecars = 0;
  let initPeak = 0;
  for (const container of pod.spec.initContainers ?? []) {
    const v = value(container);
    let sized: number;
    if (container.restartPolicy === 'Always') {
      sum += v;
      sidecars += v;
      sized = sidecars;
    } else sized = sidecars + v;
    each?.(sized);
    initPeak = Math.max(initPeak, sized);
  }
  for (const container of pod.spec.containers) {
    const v = value(container);
    each?.(v);
    sum += v;
  }
  return Math.max(sum, initPeak);
}

function overheadValue(pod: Pod, name: string): number {
  const raw = pod.spec.overhead?.[name];
  return raw === undefined ? 0 : quantityValue(name, raw, `spec.overhead.${name}`);
}

/**
 * Upstream PodRequests for one resource: the containers' aggregate, replaced by the pod-level
 * request where the pod sets one, plus spec.overhead.
 */
export function podResourceRequest(pod: Pod, name: string, options: PodResourcesOptions = {}): number {
  const level = podLevelRequest(pod, name);
  let total: number;
  if (level !== undefined) total = quantityValue(name, level, `spec.resources.requests.${name}`);
  else if (options.skipContainerLevelResources) total = 0;
  else total = aggregateContainers(pod, (c) => containerRequest(c, name));
  return options.excludeOverhead ? total : total + overheadValue(pod, name);
}

/**
 * Upstream PodLimits for one resource: the containers' aggregate, replaced by the pod-level
 * limit where the pod sets one, plus spec.overhead when that leaves a limit. `declared` is
 * false when some container (or init step, with its sidecars) has none, as ResourceConfigForPod
 * learns it through ContainerFn; a pod-level limit declares it for the whole pod.
 */
export function podResourceLimit(pod: Pod, name: string): { value: number; declared: boolean } {
  let declared = true;
  const sum = aggregateContainers(
    pod,
    (c) => containerLimit(c, name),
    (v) => {
      if (v === 0) declared = false;
    },
  );
  const level = podLevelLimit(pod, name);
  const value = level === undefined ? sum : quantityValue(name, level, `spec.resources.limits.${name}`);
  if (level !== undefined) declared = true;
  return { value: value > 0 ? value + overheadValue(pod, name) : 0, declared };
}

/**
 * Upstream GetResourceRequestQuantity, what eviction ranks pods by: PodRequests without the
 * overhead (only the pod-level values when the pod has pod-level resources), then the overhead
 * added only to a non-zero request.
 */
export function podRequestForEviction(pod: Pod, name: string): number {
  const request = podResourceRequest(pod, name, {
    excludeOverhead: true,
    skipContainerLevelResources: hasPodLevelResources(pod),
  });
  return request > 0 ? request + overheadValue(pod, name) : 0;
}

/** Upstream PodRequests for cpu and memory, as admission, resize and MemoryQoS read them. */
export function podRequests(pod: Pod): PodRequests {
  return { cpuMilli: podResourceRequest(pod, 'cpu'), memoryBytes: podResourceRequest(pod, 'memory') };
}
