import { parseQuantity } from '@nodeagent/primitives';
import { podLevelLimit } from '../api/pod-level-resources';
import type { Container, Pod, ResourceFieldSelector, ResourceList } from '../api/pod-types';
import { CreateContainerConfigError } from '../errors';

/** Pod facts only known on the node, needed to resolve downward API references. */
export interface DownwardContext {
  nodeName?: string;
  hostIPs?: string[];
  podIPs?: string[];
  /** Node allocatable: the value of limits.* when a container sets no limit. */
  nodeAllocatable?: ResourceList;
}

const subscript = /^metadata\.(labels|annotations)\['([^']*)'\]$/;

/**
 * Resolves a downward API fieldRef.fieldPath (upstream podutil.ExtractFieldPathAsString plus the
 * node-side status.* fields) to a string.
 */
export function resolveFieldPath(
  pod: Pod,
  fieldPath: string,
  context: DownwardContext,
  field = 'fieldRef.fieldPath',
): string {
  const meta = pod.metadata;
  const match = subscript.exec(fieldPath);
  if (match) {
    const map = match[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[match[2]!] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? 'default';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? context.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return context.hostIPs?.[0] ?? '';
    case 'status.hostIPs':
      return (context.hostIPs ?? []).join(',');
    case 'status.podIP':
      return context.podIPs?.[0] ?? '';
    case 'status.podIPs':
      return (context.podIPs ?? []).join(',');
    default:
      throw new CreateContainerConfigError(field, fieldPath, 'unsupported fieldPath');
  }
}

/** Maps rendered like upstream's downward API files: sorted `key="value"` lines. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map![key])}`)
    .join('\n');
}

const resourcePattern = /^(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-.+)$/;

/**
 * Resolves a resourceFieldRef (upstream ExtractContainerResourceValue): the container's request or
 * limit divided by the divisor and rounded up; limits default to the pod-level limit, else node
 * allocatable (defaultLimit).
 */
export function resolveResourceField(
  pod: Pod,
  container: Container | undefined,
  selector: ResourceFieldSelector,
  context: DownwardContext,
  field = 'resourceFieldRef',
): string {
  const target = selector.containerName
    ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find(
        (c) => c.name === selector.containerName,
      )
    : container;
  if (!target) {
    throw new CreateContainerConfigError(
      `${field}.containerName`,
      selector.containerName,
      'no such container in the pod',
    );
  }
  const match = resourcePattern.exec(selector.resource);
  if (!match)
    throw new CreateContainerConfigError(`${field}.resource`, selector.resource, 'unsupported resource');
  const [, kind, resource] = match as unknown as [string, 'limits' | 'requests', string];
  let raw = target.resources?.[kind]?.[resource];
  if (raw === undefined && kind === 'requests') raw = target.resources?.limits?.[resource];
  if (raw === undefined && kind === 'limits') raw = defaultLimit(pod, resource, context.nodeAllocatable);
  const value = raw === undefined ? 0 : parseQuantity(raw, `${field}.resource`);
  const divisor = resolveDivisor(selector.divisor, `${field}.divisor`);
  if (resource === 'cpu') {
    // CPU divides millicores (Quantity.MilliValue, rounded up) and rounds the quotient up.
    return String(Math.ceil(toMilli(value) / toMilli(divisor)));
  }
  // Everything else divides whole units (Quantity.Value, rounded up).
  return String(Math.ceil(Math.ceil(value) / Math.ceil(divisor)));
}

/**
 * Upstream defaultPodLimitsForDownwardAPI: a container without a limit reads the pod-level limit
 * (PodLevelResources; a non-zero cpu or memory limit, for a resource the node reports), else the
 * node's allocatable.
 */
function defaultLimit(
  pod: Pod,
  resource: string,
  allocatable: ResourceList | undefined,
): string | number | undefined {
  const level = resource === 'cpu' || resource === 'memory' ? podLevelLimit(pod, resource) : undefined;
  if (
    level !== undefined &&
    allocatable?.[resource] !== undefined &&
    parseQuantity(level, `spec.resources.limits.${resource}`) !== 0
  )
    return level;
  return allocatable?.[resource];
}

/**
 * A real API server stores an unset divisor as "0" (the zero Quantity); upstream
 * ExtractContainerResourceValue treats a zero divisor as 1, and so do we.
 */
export function resolveDivisor(divisor: string | number | undefined, field: string): number {
  const parsed = divisor === undefined || divisor === '' ? 1 : parseQuantity(divisor, field);
  if (parsed < 0) throw new CreateContainerConfigError(field, divisor, 'must not be negative');
  return parsed === 0 ? 1 : parsed;
}

function toMilli(value: number): number {
  return Math.ceil(Math.round(value * 1e9) / 1e6);
}
