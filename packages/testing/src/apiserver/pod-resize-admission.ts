import { milliValue, parseQuantity } from '@nodeagent/primitives';
import { forbidden } from './api-error';
import type { KubeObject } from './kube-object';
import { hasPodLevelResources } from './pod-qos';

type Obj = Record<string, unknown>;
type ResourceList = Record<string, unknown>;

interface Container {
  restartPolicy?: string;
  resources?: { requests?: ResourceList };
}

function amount(q: unknown, unit: 'milli' | 'bytes'): number {
  try {
    const text = typeof q === 'number' ? q : String(q ?? '0');
    return unit === 'milli' ? milliValue(text) : Math.ceil(parseQuantity(text));
  } catch {
    return 0;
  }
}

/**
 * A pod's effective request of one resource, as upstream's resource.PodRequests computes it:
 * regular containers and sidecars add up; each ordinary init container runs alone beside the
 * sidecars started before it, and the largest of those moments wins if it is bigger; pod-level
 * `spec.resources.requests` replaces the sum when set; `overhead` is added.
 */
export function podRequest(spec: Obj, name: 'cpu' | 'memory'): number {
  const unit = name === 'cpu' ? 'milli' : 'bytes';
  const of = (c: Container): number => amount(c.resources?.requests?.[name], unit);
  const containers = (Array.isArray(spec.containers) ? spec.containers : []) as Container[];
  const initContainers = (Array.isArray(spec.initContainers) ? spec.initContainers : []) as Container[];
  let total = containers.reduce((sum, c) => sum + of(c), 0);
  let sidecars = 0;
  let initPeak = 0;
  for (const c of initContainers) {
    if (c.restartPolicy === 'Always') {
      sidecars += of(c);
      total += of(c);
    } else initPeak = Math.max(initPeak, of(c) + sidecars);
  }
  total = Math.max(total, initPeak);
  const podLevel = (spec.resources as { requests?: ResourceList } | undefined)?.requests?.[name];
  if (hasPodLevelResources(spec) && podLevel !== undefined) total = amount(podLevel, unit);
  const overhead = (spec.overhead as ResourceList | undefined)?.[name];
  if (overhead !== undefined) total += amount(overhead, unit);
  return total;
}

/**
 * kube-apiserver's PodResizeValidator admission plugin (v1.36, plugin/pkg/admission/podresize):
 * a resize that changed the spec of a pod bound to a node is refused (403 Forbidden) when that
 * node is missing, is not a Linux node (label kubernetes.io/os, cause UnsupportedPlatform), or has
 * less allocatable cpu or memory than the pod now requests (cause NodeCapacity). What fits the
 * node but not its free room is the kubelet's business (Deferred), not the API server's.
 */
export function admitPodResize(
  next: KubeObject,
  old: KubeObject,
  findNode: (name: string) => KubeObject | undefined,
): void {
  const spec = (next.spec ?? {}) as Obj;
  const nodeName = typeof spec.nodeName === 'string' ? spec.nodeName : '';
  if (!nodeName) return;
  if ((next.metadata.generation ?? 0) === (old.metadata.generation ?? 0)) return;
  const podName = String(next.metadata.name);
  const node = findNode(nodeName);
  if (!node) throw forbidden('pods', '', podName, `node "${nodeName}" not found`);
  const os = node.metadata.labels?.['kubernetes.io/os'];
  if (os !== undefined && os !== 'linux')
    throw forbidden(
      'pods',
      '',
      podName,
      `pod resize is only supported on linux nodes, node "${nodeName}" is "${os}"`,
      ['UnsupportedPlatform'],
    );
  const allocatable = ((node.status as Obj | undefined)?.allocatable ?? {}) as ResourceList;
  const problems: string[] = [];
  const cpu = podRequest(spec, 'cpu');
  const cpuAllocatable = amount(allocatable.cpu ?? '0', 'milli');
  if (cpu > cpuAllocatable) problems.push(`cpu, requested: ${cpu}, allocatable: ${cpuAllocatable}`);
  const memory = podRequest(spec, 'memory');
  const memoryAllocatable = amount(allocatable.memory ?? '0', 'bytes');
  if (memory > memoryAllocatable)
    problems.push(`memory, requested: ${memory}, allocatable: ${memoryAllocatable}`);
  if (problems.length > 0)
    throw forbidden(
      'pods',
      '',
      podName,
      `node didn't have enough allocatable resources: ${problems.join('; ')}`,
      ['NodeCapacity'],
    );
}
