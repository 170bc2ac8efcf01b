import { invalid, type StatusCause } from './api-error';
import { sameJson } from './json-equality';
import type { KubeObject } from './kube-object';
import { hasPodLevelResources, podQOSClass, storedPodQOSClass } from './pod-qos';

type Obj = Record<string, unknown>;
type ResourceList = Record<string, unknown>;

interface Resources {
  requests?: ResourceList;
  limits?: ResourceList;
  [other: string]: unknown;
}

interface Container {
  name?: string;
  resources?: Resources;
  resizePolicy?: unknown;
  restartPolicy?: string;
  [other: string]: unknown;
}

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const CPU_AND_MEMORY = ['cpu', 'memory'];

const containersOf = (spec: Obj, key: 'containers' | 'initContainers'): Container[] =>
  Array.isArray(spec[key]) ? (spec[key] as Container[]) : [];

/** A sidecar: an init container with restartPolicy Always. */
const isSidecar = (c: Container | undefined): boolean => c?.restartPolicy === 'Always';

/**
 * What the resize strategy keeps of the request (upstream dropNonResizeUpdates): each container's
 * (and init container's) `resources` and `resizePolicy`, and the pod-level `spec.resources`
 * (InPlacePodLevelResourcesVerticalScaling, beta and on in v1.36); everything else comes from the
 * stored pod. Added, removed, reordered or renamed containers are kept as sent so that
 * validation refuses them.
 */
function resizedSpec(oldSpec: Obj, newSpec: Obj): Obj {
  const pick = (key: 'containers' | 'initContainers'): Container[] | undefined => {
    const wanted = containersOf(newSpec, key);
    const stored = containersOf(oldSpec, key);
    if (wanted.length === 0) return newSpec[key] as Container[] | undefined;
    if (wanted.some((c, i) => c.name !== stored[i]?.name)) return wanted;
    return stored.map((c, i) => {
      const merged: Container = { ...c };
      const from = wanted[i] as Container;
      if (from.resources === undefined) delete merged.resources;
      else merged.resources = from.resources;
      if (from.resizePolicy === undefined) delete merged.resizePolicy;
      else merged.resizePolicy = from.resizePolicy;
      return merged;
    });
  };
  const sameCounts =
    containersOf(newSpec, 'containers').length === containersOf(oldSpec, 'containers').length &&
    containersOf(newSpec, 'initContainers').length === containersOf(oldSpec, 'initContainers').length;
  if (!sameCounts) return newSpec;
  const spec: Obj = { ...oldSpec };
  const containers = pick('containers');
  if (containers === undefined) delete spec.containers;
  else spec.containers = containers;
  const initContainers = pick('initContainers');
  if (initContainers === undefined) delete spec.initContainers;
  else spec.initContainers = initContainers;
  if (newSpec.resources === undefined) delete spec.resources;
  else spec.resources = newSpec.resources;
  return spec;
}

/** A copy of `list` whose cpu and memory are those of `old` (upstream dropCPUMemoryUpdates). */
function withOldCpuMemory(
  list: ResourceList | undefined,
  old: ResourceList | undefined,
): ResourceList | undefined {
  if (old === undefined) return undefined;
  const out: ResourceList = { ...(list ?? {}) };
  for (const name of CPU_AND_MEMORY) {
    delete out[name];
    if (old[name] !== undefined) out[name] = old[name];
  }
  return out;
}

/** The container with its cpu/memory requests and limits put back to the stored ones. */
function withoutCpuMemoryChanges(c: Container, old: Container | undefined): Container {
  const limits = withOldCpuMemory(c.resources?.limits, old?.resources?.limits);
  const requests = withOldCpuMemory(c.resources?.requests, old?.resources?.requests);
  const resources: Resources = {};
  if (limits !== undefined) resources.limits = limits;
  if (requests !== undefined) resources.requests = requests;
  return { ...c, resources };
}

/** Normalised resources for comparing: `{}` and absent lists are the same (nil maps upstream). */
function comparableContainer(c: Container | undefined): unknown {
  if (!c) return c;
  const resources: Resources = { ...(c.resources ?? {}) };
  for (const key of ['limits', 'requests'] as const) {
    if (resources[key] !== undefined && Object.keys(resources[key] as ResourceList).length === 0)
      delete resources[key];
  }
  return { ...c, resources };
}

function removed(now: ResourceList | undefined, before: ResourceList | undefined): boolean {
  return Object.keys(before ?? {}).some((name) => now?.[name] === undefined);
}

/**
 * validateContainerResize: no request or limit may be removed. (Lowering a memory limit under
 * resizePolicy NotRequired is allowed since v1.34: the v1.36 recording lowers a Guaranteed pod's
 * memory from 96Mi to 48Mi that way and gets 200.)
 */
function containerResizeCauses(now: Container, before: Container, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (removed(now.resources?.requests, before.resources?.requests))
    causes.push({
      reason: 'FieldValueForbidden',
      field: `${field}.requests`,
      message: 'Forbidden: resource requests cannot be removed',
    });
  if (removed(now.resources?.limits, before.resources?.limits))
    causes.push({
      reason: 'FieldValueForbidden',
      field: `${field}.limits`,
      message: 'Forbidden: resource limits cannot be removed',
    });
  return causes;
}

/**
 * Whether the pod's node can resize (upstream isPodResizeRequestSupported, kept for version
 * skew): the first running container must report `resources` in its status; with no running
 * container the node is given the benefit of the doubt.
 */
function nodeSupportsResize(pod: KubeObject): boolean {
  const statuses = ((pod.status as Obj | undefined)?.containerStatuses ?? []) as {
    state?: { running?: unknown };
    resources?: unknown;
  }[];
  for (const s of statuses) if (s?.state?.running) return s.resources !== undefined && s.resources !== null;
  return true;
}

/** field.NewPath("") prints as "[]" upstream (an empty name is taken for a subscript). */
const WHOLE_POD = '[]';

const forbidden = (field: string, message: string): StatusCause => ({
  reason: 'FieldValueForbidden',
  field,
  message: `Forbidden: ${message}`,
});

/** ValidatePodResize's resize-specific rules (422 Invalid). */
function resizeCauses(next: KubeObject, old: KubeObject): StatusCause[] {
  if (old.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined)
    return [forbidden(WHOLE_POD, 'static pods cannot be resized')];
  const oldSpec = (old.spec ?? {}) as Obj;
  const newSpec = (next.spec ?? {}) as Obj;
  if ((oldSpec.os as { name?: string } | undefined)?.name === 'windows')
    return [forbidden(WHOLE_POD, 'windows pods cannot be resized')];

  const causes: StatusCause[] = [];
  if (storedPodQOSClass(old) !== podQOSClass(newSpec)) {
    const stored = (next.status as { qosClass?: string } | undefined)?.qosClass ?? '';
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec',
      message: `Invalid value: ${JSON.stringify(stored)}: Pod QOS Class may not change as a result of resizing`,
    });
  }
  if (!nodeSupportsResize(old))
    causes.push(forbidden('spec', 'Pod running on node without support for resize'));

  const oldInit = containersOf(oldSpec, 'initContainers');
  const newInit = containersOf(newSpec, 'initContainers');
  const oldMain = containersOf(oldSpec, 'containers');
  const newMain = containersOf(newSpec, 'containers');
  oldInit.forEach((c, i) => {
    const now = newInit[i];
    if (isSidecar(c) && now)
      causes.push(...containerResizeCauses(now, c, `spec.initContainers[${i}].resources`));
  });
  oldMain.forEach((c, i) => {
    const now = newMain[i];
    if (now) causes.push(...containerResizeCauses(now, c, `spec.containers[${i}].resources`));
  });

  // Only cpu and memory may change, and only on regular containers and sidecars.
  const revertedMain = newMain.map((c, i) => {
    const reverted = withoutCpuMemoryChanges(c, oldMain[i]);
    if (!sameJson(comparableContainer(reverted), comparableContainer(oldMain[i])))
      causes.push(forbidden('spec', 'only cpu and memory resources are mutable'));
    return reverted;
  });
  const revertedInit = newInit.map((c, i) => {
    if (isSidecar(c)) {
      const reverted = withoutCpuMemoryChanges(c, oldInit[i]);
      if (!sameJson(comparableContainer(reverted), comparableContainer(oldInit[i])))
        causes.push(forbidden('spec', 'only cpu and memory resources for sidecar containers are mutable'));
      return reverted;
    }
    if (!sameJson(comparableContainer(c), comparableContainer(oldInit[i])))
      causes.push(forbidden('spec', 'resources for non-sidecar init containers are immutable'));
    return c;
  });
  if (causes.length > 0) return causes;

  const reverted: Obj = { ...newSpec };
  if (newSpec.containers !== undefined) reverted.containers = revertedMain;
  if (newSpec.initContainers !== undefined) reverted.initContainers = revertedInit;
  // Pod-level cpu and memory may change too; anything else there may not.
  if (hasPodLevelResources(newSpec) || hasPodLevelResources(oldSpec)) {
    const oldLevel = (oldSpec.resources ?? {}) as Resources;
    const newLevel = (newSpec.resources ?? {}) as Resources;
    const level: Resources = {};
    const limits = withOldCpuMemory(newLevel.limits, oldLevel.limits);
    const requests = withOldCpuMemory(newLevel.requests, oldLevel.requests);
    if (limits !== undefined) level.limits = limits;
    if (requests !== undefined) level.requests = requests;
    reverted.resources = level;
  }
  const comparable = (spec: Obj): unknown => ({
    ...spec,
    containers: containersOf(spec, 'containers').map(comparableContainer),
    initContainers: containersOf(spec, 'initContainers').map(comparableContainer),
    resources: comparableContainer({ resources: (spec.resources ?? {}) as Resources }),
  });
  if (!sameJson(comparable(reverted), comparable(oldSpec)))
    causes.push(forbidden('spec', 'only cpu and memory resources are mutable'));
  return causes;
}

/**
 * An update through `pods/<name>/resize` (PATCH or PUT; what `kubectl patch --subresource
 * resize` sends), as kube-apiserver v1.36's resize strategy does it: the stored pod with the
 * request's container resources and resize policies (upstream dropNonResizeUpdates), metadata and
 * status as stored, generation bumped when the spec changed, then ValidatePodResize's rules (422
 * Invalid). `incoming` has been defaulted. The node checks (PodResizeValidator, 403) come after,
 * see pod-resize-admission.ts.
 */
export function podResizeUpdate(
  old: KubeObject,
  incoming: KubeObject,
  specCauses: (pod: KubeObject) => StatusCause[],
): KubeObject {
  const oldSpec = (old.spec ?? {}) as Obj;
  const spec = resizedSpec(oldSpec, (incoming.spec ?? {}) as Obj);
  const generation = old.metadata.generation ?? 1;
  const next: KubeObject = {
    ...old,
    metadata: { ...old.metadata },
    spec,
    status: old.status,
  };
  if (!sameJson(spec, oldSpec)) next.metadata.generation = generation + 1;
  const causes = [...specCauses(next), ...resizeCauses(next, old)];
  if (causes.length > 0) throw invalid('Pod', '', String(old.metadata.name), causes);
  return next;
}
