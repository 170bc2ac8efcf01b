type Obj = Record<string, unknown>;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A resource quantity's value in base units (cores, bytes); NaN when it does not parse. */
export function quantityValue(q: unknown): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(
    String(q ?? '').trim(),
  );
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] ? 10 ** Number(m[2].slice(1)) : (SUFFIX[m[3] ?? ''] as number));
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
