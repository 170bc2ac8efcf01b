import type { StatusCause } from './api-error';
import { resourceCauses } from './pod-container-validation';
import { effectiveRequest } from './pod-defaults';
import { canonicalQuantity, compareQuantities } from './quantity-text';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Upstream IsSupportedPodLevelResource: what `spec.resources` may name (PodLevelResources, beta in v1.36). */
const supportedPodLevel = (name: string) =>
  name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');

/**
 * validatePodResources (PodLevelResources on in v1.36), on create: `spec.resources` names only
 * cpu, memory and hugepages-*; the container quantity rules (no negative value, no request above
 * its limit); a pod-level request at least the containers' aggregate request of that resource;
 * no container limit above the pod-level limit. Resource names are walked in sorted order (Go
 * walks a map; sorted keeps the causes stable).
 */
export function podLevelResourceCauses(spec: Obj): StatusCause[] {
  const level = spec.resources;
  if (!isObj(level)) return [];
  const requests = isObj(level.requests) ? level.requests : {};
  const limits = isObj(level.limits) ? level.limits : {};
  const causes: StatusCause[] = [];
  for (const [kind, list] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const name of Object.keys(list).sort())
      if (!supportedPodLevel(name))
        causes.push({
          reason: 'FieldValueNotSupported',
          field: `spec.resources.${kind}[${name}]`,
          message: `Unsupported value: ${JSON.stringify(name)}: supported values: "cpu", "hugepages-", "memory"`,
        });
  }
  causes.push(...resourceCauses(level, 'spec.resources'));
  const containers = objects(spec.containers);
  const initContainers = objects(spec.initContainers);
  for (const name of Object.keys(requests).sort()) {
    if (!supportedPodLevel(name)) continue;
    const asked =
      containers.some(
        (c) => isObj(c.resources) && isObj(c.resources.requests) && name in c.resources.requests,
      ) ||
      initContainers.some(
        (c) => isObj(c.resources) && isObj(c.resources.requests) && name in c.resources.requests,
      );
    if (!asked) continue;
    const aggregate = effectiveRequest(containers, initContainers, name);
    if (compareQuantities(aggregate, requests[name]) > 0)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `spec.resources.requests[${name}]`,
        message: `Invalid value: ${JSON.stringify(canonicalQuantity(requests[name]))}: must be greater than or equal to aggregate container requests of ${canonicalQuantity(aggregate)}`,
      });
  }
  containers.forEach((c, i) => {
    const own = isObj(c.resources) && isObj(c.resources.limits) ? c.resources.limits : {};
    for (const name of Object.keys(own).sort()) {
      const podLimit = limits[name];
      if (podLimit === undefined || compareQuantities(own[name], podLimit) <= 0) continue;
      // Upstream builds this path under the pod-level resources path.
      causes.push({
        reason: 'FieldValueInvalid',
        field: `spec.resources.containers[${i}][${name}].limits`,
        message: `Invalid value: ${JSON.stringify(canonicalQuantity(own[name]))}: must be less than or equal to pod limits of ${canonicalQuantity(podLimit)}`,
      });
    }
  });
  return causes;
}
