import type { StatusCause } from './api-error';
import { canonicalQuantity, compareQuantities } from './quantity-text';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The pod's terminationGracePeriodSeconds as validation sees it (defaulted to 30 before). */
function gracePeriodOf(spec: Obj): number {
  return typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 30;
}

/**
 * ValidateContainerResourceRequirements' quantity rules: no negative request or limit, and a
 * request no larger than the limit of the same resource. Values are quoted as Quantity.String()
 * prints them.
 */
export function resourceCauses(resources: unknown, field: string): StatusCause[] {
  if (!isObj(resources)) return [];
  const causes: StatusCause[] = [];
  const limits = isObj(resources.limits) ? resources.limits : {};
  const requests = isObj(resources.requests) ? resources.requests : {};
  for (const [name, q] of Object.entries(limits)) {
    if (compareQuantities(q, '0') < 0)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${field}.limits[${name}]`,
        message: `Invalid value: ${JSON.stringify(canonicalQuantity(q))}: must be greater than or equal to 0`,
      });
  }
  for (const [name, q] of Object.entries(requests)) {
    if (compareQuantities(q, '0') < 0)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${field}.requests[${name}]`,
        message: `Invalid value: ${JSON.stringify(canonicalQuantity(q))}: must be greater than or equal to 0`,
      });
    const limit = limits[name];
    if (limit !== undefined && compareQuantities(q, limit) > 0)
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${field}.requests`,
        message: `Invalid value: ${JSON.stringify(canonicalQuantity(q))}: must be less than or equal to ${name} limit of ${canonicalQuantity(limit)}`,
      });
  }
  return causes;
}

/**
 * validateSleepAction with PodLifecycleSleepActionAllowZero (GA in v1.34): a sleep hook may last
 * 0 seconds up to the pod's grace period, no more and never less than 0.
 */
function lifecycleCauses(lifecycle: unknown, grace: number, field: string): StatusCause[] {
  if (!isObj(lifecycle)) return [];
  const causes: StatusCause[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const handler = lifecycle[hook];
    if (!isObj(handler) || !isObj(handler.sleep)) continue;
    const seconds = handler.sleep.seconds;
    if (typeof seconds === 'number' && (seconds < 0 || seconds > grace))
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${field}.${hook}.sleep.seconds`,
        message: `Invalid value: ${seconds}: must be non-negative and less than terminationGracePeriodSeconds (${grace})`,
      });
  }
  return causes;
}

/** What validation checks per container beyond name and image: resources, sleep hooks. */
export function containerCauses(spec: Obj, container: Obj, field: string): StatusCause[] {
  return [
    ...resourceCauses(container.resources, `${field}.resources`),
    ...lifecycleCauses(container.lifecycle, gracePeriodOf(spec), `${field}.lifecycle`),
  ];
}
