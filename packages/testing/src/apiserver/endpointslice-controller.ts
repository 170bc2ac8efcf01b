import type { KubeObject } from './kube-object';
import { matchesStructuredSelector } from './label-selector';
import type { StoredEvent } from './object-store';
import type { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';

/** The label an EndpointSlice names its Service with. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** The label naming the controller that manages an EndpointSlice. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** This controller's managed-by value, as kube-controller-manager's. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';

/** The EndpointSlice controller's limits. */
export interface EndpointSliceControllerOptions {
  /** Upstream's --max-endpoints-per-slice default is 100. */
  maxEndpointsPerSlice?: number;
}

/** The running EndpointSlice controller. */
export interface EndpointSliceController {
  /** Resolves when every queued Service has been reconciled. */
  settled(): Promise<void>;
  /** Reconcile every Service now (e.g. after starting on a populated server). */
  resyncAll(): Promise<void>;
  /** Stops reconciling. */
  stop(): void;
}

type Obj = Record<string, unknown>;

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

function podReady(pod: KubeObject): boolean {
  const conds =
    ((pod.status as Obj | undefined)?.conditions as { type: string; status: string }[] | undefined) ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Resolve a Service targetPort (number or container port name) against one pod. */
function resolvePort(pod: KubeObject, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const containers = ((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
  for (const c of containers) {
    for (const p of (c.ports as Obj[] | undefined) ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === (sp.protocol ?? 'TCP'))
        return p.containerPort as number;
    }
  }
  return undefined;
}

function sameContent(a: KubeObject, b: Obj): boolean {
  return (
    JSON.stringify(a.endpoints ?? []) === JSON.stringify(b.endpoints ?? []) &&
    JSON.stringify(a.ports ?? []) === JSON.stringify(b.ports ?? []) &&
    JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify((b.metadata as Obj).labels ?? {})
  );
}

const services = findResourceType('', 'v1', 'services') as ResourceType;
const pods = findResourceType('', 'v1', 'pods') as ResourceType;
const slices = findResourceType('discovery.k8s.io', 'v1', 'endpointslices') as ResourceType;

/**
 * What kube-controller-manager's EndpointSlice controller does, in process: for every Service
 * with a selector, slices listing the matching pods that have an IP, with ready / serving /
 * terminating conditions, nodeName and targetRef (no zones, no hints), one slice set per
 * distinct resolved port list, at most `maxEndpointsPerSlice` endpoints each.
 */
export function startEndpointSliceController(
  registry: ResourceRegistry,
  options: EndpointSliceControllerOptions = {},
): EndpointSliceController {
  const max = options.maxEndpointsPerSlice ?? 100;
  const dirty = new Set<string>();
  let scheduled: Promise<void> | undefined;
  let stopped = false;

  function servicesSelecting(ns: string, pod: KubeObject | undefined): string[] {
    if (!pod) return [];
    return registry
      .list(services, ns)
      .filter((s) => {
        const sel = (s.spec as Obj | undefined)?.selector as Record<string, string> | undefined;
        return (
          sel &&
          Object.keys(sel).length > 0 &&
          matchesStructuredSelector({ matchLabels: sel }, pod.metadata.labels)
        );
      })
      .map((s) => `${ns}/${s.metadata.name}`);
  }

  function enqueue(keys: string[]): void {
    if (stopped || keys.length === 0) return;
    for (const k of keys) dirty.add(k);
    if (!scheduled) {
      scheduled = new Promise<void>((resolve) => {
        setImmediate(() => {
          scheduled = undefined;
          const batch = [...dirty];
          dirty.clear();
          for (const key of batch) {
            try {
              reconcileService(registry, key, max);
            } catch {
              // A racing write (conflict, namespace gone): try again on the next change.
              dirty.add(key);
            }
          }
          resolve();
        });
      });
    }
  }

  function onEvent(e: StoredEvent): void {
    if (e.resource === '/services') {
      enqueue([`${e.object.metadata.namespace}/${e.object.metadata.name}`]);
    } else if (e.resource === '/pods') {
      const ns = e.object.metadata.namespace as string;
      enqueue([...new Set([...servicesSelecting(ns, e.object), ...servicesSelecting(ns, e.oldObject)])]);
    } else if (e.resource === 'discovery.k8s.io/endpointslices' && e.type === 'DELETED') {
      const labels = e.object.metadata.labels ?? {};
      if (labels[MANAGED_BY_LABEL] === CONTROLLER_NAME && labels[SERVICE_NAME_LABEL]) {
        enqueue([`${e.object.metadata.namespace}/${labels[SERVICE_NAME_LABEL]}`]);
      }
    }
  }

  const unsubscribe = registry.store.subscribe(onEvent);
  const resyncAll = (): Promise<void> => {
    enqueue(registry.list(services, undefined).map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
    return scheduled ?? Promise.resolve();
  };
  void resyncAll();
  return {
    settled: async () => {
      while (scheduled) await scheduled;
    },
    resyncAll,
    stop: () => {
      stopped = true;
      unsubscribe();
    },
  };
}

/** One slice's worth of endpoints that share a resolved port list. */
interface SliceContent {
  ports: SlicePort[];
  endpoints: Obj[];
}

/** Brings the Service `namespace/name`'s managed slices to what its selected pods say (none when it selects nothing). */
function reconcileService(registry: ResourceRegistry, key: string, max: number): void {
  const [ns, name] = key.split('/') as [string, string];
  const existing = registry
    .list(slices, ns)
    .filter(
      (s) =>
        s.metadata.labels?.[SERVICE_NAME_LABEL] === name &&
        s.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME,
    );
  const svc = registry.find(services, ns, name);
  const spec = (svc?.spec ?? {}) as Obj;
  const selector = spec.selector as Record<string, string> | undefined;
  if (!svc || !selector || Object.keys(selector).length === 0 || spec.type === 'ExternalName') {
    for (const s of existing) registry.delete(slices, ns, s.metadata.name as string);
    return;
  }
  const addressType = ((spec.ipFamilies as string[] | undefined)?.[0] ?? 'IPv4') as string;
  const candidates = registry
    .list(pods, ns)
    .filter((p) => matchesStructuredSelector({ matchLabels: selector }, p.metadata.labels));
  const desired = desiredSlices(candidates, spec, addressType, ns, max);
  writeSlices(registry, ns, name, svc, existing, desired, addressType);
}

/**
 * The slices the selected pods make: their endpoints grouped by resolved port list, sorted by
 * pod name, cut at `max` per slice; one empty placeholder slice when there are none, like upstream.
 */
function desiredSlices(
  candidates: KubeObject[],
  spec: Obj,
  addressType: string,
  ns: string,
  max: number,
): SliceContent[] {
  const groups = new Map<string, SliceContent>();
  for (const pod of candidates) {
    const status = (pod.status ?? {}) as Obj;
    const ip = status.podIP as string | undefined;
    if (!ip) continue;
    if ((ip.includes(':') ? 'IPv6' : 'IPv4') !== addressType) continue;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') continue;
    const ports = slicePorts(pod, (spec.ports as ServicePort[] | undefined) ?? []);
    const endpoint = endpointOf(pod, ip, ns, spec.publishNotReadyAddresses === true);
    const gk = JSON.stringify(ports);
    const group = groups.get(gk) ?? { ports, endpoints: [] };
    group.endpoints.push(endpoint);
    groups.set(gk, group);
  }
  const desired: SliceContent[] = [];
  for (const g of groups.values()) {
    g.endpoints.sort((a, b) =>
      String((a.targetRef as Obj).name).localeCompare(String((b.targetRef as Obj).name)),
    );
    for (let i = 0; i < g.endpoints.length; i += max)
      desired.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + max) });
  }
  if (desired.length === 0) desired.push({ ports: [], endpoints: [] });
  return desired;
}

/** The Service's ports as they resolve against one pod (a named targetPort the pod lacks is left out). */
function slicePorts(pod: KubeObject, servicePorts: ServicePort[]): SlicePort[] {
  const ports: SlicePort[] = [];
  for (const sp of servicePorts) {
    const port = resolvePort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  return ports;
}

/** One pod's endpoint: its IP, ready / serving / terminating, targetRef and nodeName. */
function endpointOf(pod: KubeObject, ip: string, ns: string, publishNotReady: boolean): Obj {
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = podReady(pod);
  const endpoint: Obj = {
    addresses: [ip],
    conditions: { ready: publishNotReady || (ready && !terminating), serving: ready, terminating },
    targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
  };
  const nodeName = (pod.spec as Obj | undefined)?.nodeName;
  if (nodeName) endpoint.nodeName = nodeName;
  return endpoint;
}

/**
 * Writes the desired slices over the existing ones: a slice with the same ports is reused first,
 * then any other; unchanged ones are left alone, the ones left over deleted.
 */
function writeSlices(
  registry: ResourceRegistry,
  ns: string,
  name: string,
  svc: KubeObject,
  existing: KubeObject[],
  desired: SliceContent[],
  addressType: string,
): void {
  const labels: Record<string, string> = {
    ...(svc.metadata.labels ?? {}),
    [SERVICE_NAME_LABEL]: name,
    [MANAGED_BY_LABEL]: CONTROLLER_NAME,
  };
  const unused = [...existing].sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  for (const d of desired) {
    const body: Obj = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        labels,
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name,
            uid: svc.metadata.uid as string,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType,
      endpoints: d.endpoints,
      ports: d.ports,
    };
    const idx = unused.findIndex((s) => JSON.stringify(s.ports ?? []) === JSON.stringify(d.ports));
    const reuse = idx >= 0 ? unused.splice(idx, 1)[0] : unused.shift();
    if (reuse) {
      if (sameContent(reuse, body)) continue;
      registry.update(slices, ns, reuse.metadata.name as string, {
        ...body,
        metadata: { ...reuse.metadata, ...(body.metadata as Obj), name: reuse.metadata.name },
      });
    } else {
      registry.create(slices, ns, {
        ...body,
        metadata: { ...(body.metadata as Obj), generateName: `${name}-` },
      });
    }
  }
  for (const s of unused) registry.delete(slices, ns, s.metadata.name as string);
}
