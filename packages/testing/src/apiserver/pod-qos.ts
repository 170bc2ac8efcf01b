import { parseQuantity } from '@nodeagent/primitives';

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

/**
 * status.qosClass as the pod strategy computes it on create (upstream GetPodQOS over containers
 * and init containers, cpu and memory only): BestEffort without any request or limit,
 * Guaranteed when every container limits both and the summed requests equal the summed limits.
 */
export function podQOSClass(spec: Obj): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const containers = [spec.containers, spec.initContainers].flatMap((list) =>
    Array.isArray(list) ? (list as Obj[]) : [],
  );
  for (const c of containers) {
    const resources = (c?.resources ?? {}) as { requests?: Obj; limits?: Obj };
    for (const [name, q] of Object.entries(resources.requests ?? {})) {
      const value = quantityValue(q);
      if (QOS_RESOURCES.includes(name) && value > 0) requests.set(name, (requests.get(name) ?? 0) + value);
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(resources.limits ?? {})) {
      const value = quantityValue(q);
      if (!QOS_RESOURCES.includes(name) || !(value > 0)) continue;
      found.add(name);
      limits.set(name, (limits.get(name) ?? 0) + value);
    }
    if (!QOS_RESOURCES.every((r) => found.has(r))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, value] of requests) if (limits.get(name) !== value) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
