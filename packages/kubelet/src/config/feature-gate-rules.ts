import {
  FEATURE_GATES_V1_36,
  HONOURED_FEATURE_GATES,
  isInvalidFeatureGateError,
  resolveFeatureGates,
} from '@nodeagent/primitives/feature-gates';
import { InvalidConfigError } from '../errors';

/**
 * Upstream ValidateKubeletConfiguration's first rule: `featureGates` applied to a copy of the
 * v1.36 gates (component-base SetFromMap). Throws InvalidConfigError naming featureGates with
 * upstream's reason (`unrecognized feature gate: Bogus`, `cannot set feature gate X to false,
 * feature is locked to true`).
 */
export function checkFeatureGates(featureGates: Readonly<Record<string, boolean>>): void {
  try {
    resolveFeatureGates(featureGates, FEATURE_GATES_V1_36);
  } catch (error) {
    if (!isInvalidFeatureGateError(error)) throw error;
    throw new InvalidConfigError('featureGates', featureGates, error.reason);
  }
}

/**
 * `featureGates` with the effective value of every gate this kubelet's code reads added where
 * it differs from its v1.36 default (AllAlpha / AllBeta switch gates not named): the readers
 * (`featureGates.ContainerCheckpoint ?? true`, …) fall back to the default, so they then see
 * what upstream's gate would answer. Call it on a map checkFeatureGates accepted.
 */
export function withHonouredGateValues(featureGates: Record<string, boolean>): Record<string, boolean> {
  const { enabled } = resolveFeatureGates(featureGates, FEATURE_GATES_V1_36);
  const out = { ...featureGates };
  for (const gate of HONOURED_FEATURE_GATES.kubelet) {
    const value = enabled.get(gate);
    if (value !== undefined && value !== FEATURE_GATES_V1_36.get(gate)?.default) out[gate] = value;
  }
  return out;
}

/**
 * Whether `gate` is on once `featureGates` is applied (AllAlpha / AllBeta included). A map
 * upstream would refuse (checkFeatureGates reports that) answers the gate as set by name, or its
 * v1.36 default.
 */
export function featureGateEnabled(featureGates: Readonly<Record<string, boolean>>, gate: string): boolean {
  const enabled = resolvedGates(featureGates);
  if (enabled) return enabled.get(gate) ?? false;
  return featureGates[gate] ?? FEATURE_GATES_V1_36.get(gate)?.default ?? false;
}

/**
 * Every gate's value for one featureGates map, resolved once per map: the kubelet's parts ask
 * about gates one at a time, and each resolution walks all v1.36 gates and their dependencies
 * (a few ms at start when done per question). Undefined: a map upstream would refuse.
 */
const resolved = new WeakMap<object, ReadonlyMap<string, boolean> | undefined>();
function resolvedGates(
  featureGates: Readonly<Record<string, boolean>>,
): ReadonlyMap<string, boolean> | undefined {
  if (resolved.has(featureGates)) return resolved.get(featureGates);
  let enabled: ReadonlyMap<string, boolean> | undefined;
  try {
    enabled = resolveFeatureGates(featureGates, FEATURE_GATES_V1_36).enabled;
  } catch (error) {
    if (!isInvalidFeatureGateError(error)) throw error;
  }
  resolved.set(featureGates, enabled);
  return enabled;
}
