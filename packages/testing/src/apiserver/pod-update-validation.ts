import type { StatusCause } from './api-error';
import { sameJson } from './json-equality';

type Obj = Record<string, unknown>;

const MAX_INT32 = 2 ** 31 - 1;

/** What an update of the main pod resource may change, as v1.36's message lists it. */
const UPDATABLE_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

function containerUpdateCauses(
  now: unknown,
  before: unknown,
  field: string,
): { causes: StatusCause[]; stop: boolean } {
  const next = list(now);
  const prev = list(before);
  if (next.length !== prev.length)
    return {
      causes: [
        {
          reason: 'FieldValueForbidden',
          field,
          message: 'Forbidden: pod updates may not add or remove containers',
        },
      ],
      stop: true,
    };
  const causes: StatusCause[] = [];
  next.forEach((c, i) => {
    if (typeof c?.image !== 'string' || c.image === '')
      causes.push({ reason: 'FieldValueRequired', field: `${field}[${i}].image`, message: 'Required value' });
  });
  return { causes, stop: false };
}

/** Every old toleration must still be there, its tolerationSeconds aside (validateOnlyAddedTolerations). */
function onlyAddedTolerations(now: unknown, before: unknown): StatusCause[] {
  const next = list(now);
  for (const old of list(before)) {
    const kept = next.some((t) => sameJson({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!kept)
      return [
        {
          reason: 'FieldValueForbidden',
          field: 'spec.tolerations',
          message: 'Forbidden: existing toleration can not be modified except its tolerationSeconds',
        },
      ];
  }
  return [];
}

/** Scheduling gates may only be removed. */
function onlyDeletedSchedulingGates(now: unknown, before: unknown): StatusCause[] {
  const old = new Set(list(before).map((g) => g.name));
  for (const gate of list(now))
    if (!old.has(gate.name))
      return [
        {
          reason: 'FieldValueForbidden',
          field: 'spec.schedulingGates',
          message: `Forbidden: only deletion is allowed, but found new scheduling gate '${String(gate.name)}'`,
        },
      ];
  return [];
}

/** The top-level spec fields that differ, for the message (upstream prints a full diff there). */
function changedFields(now: Obj, before: Obj): string {
  const keys = new Set([...Object.keys(now), ...Object.keys(before)]);
  const changed = [...keys].filter((k) => !sameJson(now[k], before[k])).sort();
  return changed.map((k) => `spec.${k}`).join(', ');
}

/**
 * ValidatePodUpdate for the main pod resource (PUT/PATCH of pods/<name>): after creation only
 * container and init container images, activeDeadlineSeconds (set once, then only lowered),
 * added tolerations (or their tolerationSeconds), removed scheduling gates (and, while gated,
 * nodeSelector/affinity) and a negative terminationGracePeriodSeconds turned into 1 may change.
 * Resources go through pods/resize, ephemeral containers through pods/ephemeralcontainers, the
 * node through pods/binding. Upstream ends its message with a field-by-field diff; this one
 * names the changed top-level fields instead.
 */
export function podUpdateCauses(nowSpec: Obj, beforeSpec: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const key of ['containers', 'initContainers'] as const) {
    const r = containerUpdateCauses(nowSpec[key], beforeSpec[key], `spec.${key}`);
    causes.push(...r.causes);
    if (r.stop) return causes;
  }
  const deadline = nowSpec.activeDeadlineSeconds;
  const oldDeadline = beforeSpec.activeDeadlineSeconds;
  if (typeof deadline === 'number') {
    if (deadline < 0 || deadline > MAX_INT32)
      return [
        ...causes,
        {
          reason: 'FieldValueInvalid',
          field: 'spec.activeDeadlineSeconds',
          message: `Invalid value: ${deadline}: must be between 0 and ${MAX_INT32}, inclusive`,
        },
      ];
    if (typeof oldDeadline === 'number' && oldDeadline < deadline)
      return [
        ...causes,
        {
          reason: 'FieldValueInvalid',
          field: 'spec.activeDeadlineSeconds',
          message: `Invalid value: ${deadline}: must be less than or equal to previous value`,
        },
      ];
  } else if (typeof oldDeadline === 'number') {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.activeDeadlineSeconds',
      message: 'Invalid value: "null": must not update from a positive integer to nil value',
    });
  }
  causes.push(...onlyAddedTolerations(nowSpec.tolerations, beforeSpec.tolerations));
  causes.push(...onlyDeletedSchedulingGates(nowSpec.schedulingGates, beforeSpec.schedulingGates));
  if (sameJson(nowSpec, beforeSpec)) return causes;

  const munged: Obj = { ...nowSpec };
  for (const key of ['containers', 'initContainers'] as const) {
    if (munged[key] === undefined) continue;
    munged[key] = list(munged[key]).map((c, i) => ({ ...c, image: list(beforeSpec[key])[i]?.image }));
  }
  munged.activeDeadlineSeconds = beforeSpec.activeDeadlineSeconds;
  munged.schedulingGates = beforeSpec.schedulingGates;
  munged.tolerations = beforeSpec.tolerations;
  const oldGrace = beforeSpec.terminationGracePeriodSeconds;
  if (typeof oldGrace === 'number' && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1)
    munged.terminationGracePeriodSeconds = oldGrace;
  if (list(beforeSpec.schedulingGates).length > 0) {
    // A gated pod may still be given node constraints before it is scheduled.
    munged.nodeSelector = beforeSpec.nodeSelector;
    munged.affinity = beforeSpec.affinity;
  }
  if (!sameJson(munged, beforeSpec))
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'spec',
      message: `Forbidden: pod updates may not change fields other than ${UPDATABLE_FIELDS.join(',')}\nchanged: ${changedFields(munged, beforeSpec)}`,
    });
  return causes;
}
