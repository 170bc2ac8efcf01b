import type {
  Container,
  ContainerStatus,
  ResourceList,
  ResourceRequirements,
  VolumeMountStatus,
} from '../api/pod-types';

/**
 * status.volumeMounts as v1.34 reports it for every container (RecursiveReadOnlyMounts, on by
 * default): name, mountPath, readOnly, and for read-only mounts whether they are recursively
 * read-only. Only an `Enabled` request makes them so here: `IfPossible` resolves to Disabled, as
 * upstream does on a runtime that does not announce recursive read-only support (containerd 1.6).
 */
export function volumeMountStatuses(container: Container): VolumeMountStatus[] | undefined {
  const mounts = container.volumeMounts ?? [];
  if (mounts.length === 0) return undefined;
  return mounts.map((m) => {
    const status: VolumeMountStatus = { name: m.name, mountPath: m.mountPath };
    if (m.readOnly) {
      status.readOnly = true;
      status.recursiveReadOnly = m.recursiveReadOnly === 'Enabled' ? 'Enabled' : 'Disabled';
    }
    return status;
  });
}

const STATUS_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];

function pick(list: ResourceList | undefined): ResourceList {
  const out: ResourceList = {};
  for (const name of STATUS_RESOURCES) if (list?.[name] !== undefined) out[name] = list[name]!;
  return out;
}

/**
 * allocatedResources and resources of a running or exited container (InPlacePodVerticalScaling, on by
 * default in v1.34): the requests the container was admitted with, and the cpu, memory and
 * ephemeral-storage limits and requests applied to it. Without in-place resize the applied
 * values are the spec's.
 */
export function runningResourceFields(
  container: Container,
): Pick<ContainerStatus, 'allocatedResources' | 'resources'> {
  const spec = container.resources ?? {};
  const out: Pick<ContainerStatus, 'allocatedResources' | 'resources'> = {};
  const allocated = spec.requests;
  if (allocated && Object.keys(allocated).length > 0) out.allocatedResources = { ...allocated };
  const resources: ResourceRequirements = {};
  if (spec.limits) resources.limits = pick(spec.limits);
  if (allocated) resources.requests = pick(allocated);
  out.resources = resources;
  return out;
}
