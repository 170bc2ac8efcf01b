import { labelValueErrors, qualifiedNameErrors } from '../api/qualified-name';

/** The effects upstream's taint validation allows; an empty effect passes it too. */
const taintEffects = new Set(['NoSchedule', 'PreferNoSchedule', 'NoExecute']);

/** A registerWithTaints entry as decoded, before its checks. */
export interface TaintInput {
  key: string;
  value?: string;
  effect?: string;
  timeAdded?: unknown;
}

/**
 * Why upstream v1.36's configuration validation refuses a registerWithTaints entry
 * (utiltaints.CheckTaintValidation: a qualified-name key, a label-value value, a known effect or
 * none), in its words: `invalid taint: %v` of the v1.Taint, whose fields Go prints in order with
 * a nil timeAdded as `<nil>`. Undefined when the taint passes.
 */
export function taintProblem(taint: TaintInput): string | undefined {
  const value = taint.value ?? '';
  const effect = taint.effect ?? '';
  const valid =
    qualifiedNameErrors(taint.key).length === 0 &&
    labelValueErrors(value).length === 0 &&
    (effect === '' || taintEffects.has(effect));
  if (valid) return undefined;
  const timeAdded =
    taint.timeAdded === undefined || taint.timeAdded === null ? '<nil>' : String(taint.timeAdded);
  return `invalid taint: {${taint.key} ${value} ${effect} ${timeAdded}}`;
}
