import { parseQuantity } from '@nodeagent/primitives';
import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

/** A resource quantity's value in base units (cores, bytes); NaN when it does not parse. */
export function quantityValue(q: unknown): number {
  try {
    return parseQuantity(typeof q === 'number' ? q : String(q ?? ''));
  } catch {
    return Number.NaN;
  }
}

const QOS_RESOURCES = ['cpu', 'memory'];

/** Sums of the positive cpu/memory requests and limits, and whether every entry limited both. */
interface QoSInputs {
  requests: Map<string, number>;
  limits: Map<string, number>;
  everyEntryLimitsBoth: boolean;
}

function addResources(inputs: QoSInputs, resources: { requests?: Obj; limits?: Obj }): void {
  for (const [name, q] of Object.entries(resources.requests ?? {})) {
    const value = quantityValue(q);
    if (QOS_RESOURCES.includes(name) && value > 0)
      inputs.requests.set(name, (inputs.requests.get(name) ?? 0) + value);
  }
  const found = new Set<string>();
  for (const [name, q] of Object.entries(resources.limits ?? {})) {
    const value = quantityValue(q);
    if (!QOS_RESOURCES.includes(name) || !(value > 0)) continue;
    found.add(name);
    inputs.limits.set(name, (inputs.limits.get(name) ?? 0) + value);
  }
  if (!QOS_RESOURCES.every((r) => found.has(r))) inputs.everyEntryLimitsBoth = false;
}

/** Whether spec.resources (pod-level resources, PodLevelResources on in v1.36) sets anything. */
export function hasPodLevelResources(spec: Obj): boolean {
  const resources = (spec.resources ?? {}) as { requests?: Obj; limits?: Obj };
  return Object.keys(resources.requests ?? {}).length + Object.keys(resources.limits ?? {}).length > 0;
}

/**
 * status.qosClass as the pod strategy computes it on create (upstream ComputePodQOS, cpu and
 * memory only): from the pod-level `spec.resources` when it sets anything, otherwise over
 * containers and init containers. BestEffort without any request or limit, Guaranteed when
 * every entry limits both and the summed requests equal the summed limits.
 */
export function podQOSClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const inputs: QoSInputs = { requests: new Map(), limits: new Map(), everyEntryLimitsBoth: true };
  if (hasPodLevelResources(spec)) {
    addResources(inputs, (spec.resources ?? {}) as { requests?: Obj; limits?: Obj });
  } else {
    const containers = [spec.containers, spec.initContainers].flatMap((list) =>
      Array.isArray(list) ? (list as Obj[]) : [],
    );
    for (const c of containers)
      addResources(inputs, (c?.resources ?? {}) as { requests?: Obj; limits?: Obj });
  }
  const { requests, limits } = inputs;
  let guaranteed = inputs.everyEntryLimitsBoth;
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, value] of requests) if (limits.get(name) !== value) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/** GetPodQOS: the class stored in status when there is one, else computed from the spec. */
export function storedPodQOSClass(pod: KubeObject): string {
  const stored = (pod.status as { qosClass?: string } | undefined)?.qosClass;
  return stored || podQOSClass((pod.spec ?? {}) as Obj);
}
