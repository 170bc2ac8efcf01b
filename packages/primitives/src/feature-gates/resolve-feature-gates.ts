import { errorPredicate, FieldError } from '../errors';
import type { FeatureGateSpec, FeatureStage } from './feature-gate-spec';

/** A `featureGates` entry upstream refuses: unknown, or a locked gate set away from its default. */
export class InvalidFeatureGateError extends FieldError {
  /** The gate named (first) in the reason, and the value it was set to. */
  readonly gate: string;
  readonly gateValue: boolean;

  constructor(gate: string, gateValue: boolean, reason: string) {
    super('INVALID_FEATURE_GATE', 'featureGates', { [gate]: gateValue }, reason, `featureGates: ${reason}`);
    this.gate = gate;
    this.gateValue = gateValue;
  }
}

/** Whether `e` is an InvalidFeatureGateError (from either build of this package). */
export const isInvalidFeatureGateError = errorPredicate(InvalidFeatureGateError);

/** A line upstream logs when a gate that should no longer be set is set. */
export interface FeatureGateWarning {
  gate: string;
  value: boolean;
  /** component-base featuregate's wording at v1.36 (logged with featureGate and value as fields). */
  message: string;
}

/** The gates' values after a `featureGates` map is applied, and the warnings setting it earned. */
export interface ResolvedFeatureGates {
  /** Every gate of the table: the value set, or its default. */
  enabled: ReadonlyMap<string, boolean>;
  warnings: FeatureGateWarning[];
}

const ALL_ALPHA = 'AllAlpha';
const ALL_BETA = 'AllBeta';
/** The stage each "all" gate sets (component-base featuregate setUnsetAlphaGates/BetaGates). */
const SPECIAL: Readonly<Record<string, FeatureStage>> = { [ALL_ALPHA]: 'ALPHA', [ALL_BETA]: 'BETA' };

const WARNING: Partial<Record<FeatureStage, string>> = {
  DEPRECATED: 'Warning: setting deprecated feature gate. It will be removed in a future release.',
  GA: 'Warning: setting GA feature gate. It will be removed in a future release.',
};

/**
 * Applies `requested` (KubeletConfiguration / KubeProxyConfiguration `featureGates`, flags
 * merged) to `table` as upstream's featureGate.SetFromMap does: an unknown gate stops at once
 * (`unrecognized feature gate: X`); a locked gate set to the other value is refused (`cannot set
 * feature gate X to false, feature is locked to true`), every one reported; a GA or deprecated
 * gate set is warned about; AllAlpha/AllBeta set every alpha/beta gate not set by name; then a
 * gate left on whose dependencies are off is refused.
 */
export function resolveFeatureGates(
  requested: Readonly<Record<string, boolean>>,
  table: ReadonlyMap<string, FeatureGateSpec>,
): ResolvedFeatureGates {
  const problems: InvalidFeatureGateError[] = [];
  const warnings: FeatureGateWarning[] = [];
  for (const [gate, value] of Object.entries(requested)) {
    const spec = table.get(gate);
    if (!spec) throw new InvalidFeatureGateError(gate, value, `unrecognized feature gate: ${gate}`);
    if (spec.lockToDefault && spec.default !== value) {
      problems.push(
        new InvalidFeatureGateError(
          gate,
          value,
          `cannot set feature gate ${gate} to ${value}, feature is locked to ${spec.default}`,
        ),
      );
      continue;
    }
    const warning = SPECIAL[gate] === undefined ? WARNING[spec.stage] : undefined;
    if (warning) warnings.push({ gate, value, message: warning });
  }
  if (problems.length > 0) throw aggregate(problems);
  const enabled = effectiveValues(requested, table);
  const unmet = unmetDependencies(enabled, table);
  if (unmet.length > 0) throw aggregate(unmet);
  return { enabled, warnings };
}

/**
 * Gates on while a gate they depend on is off (`X is enabled, but depends on features that are
 * disabled: [A B]`, Go's %v of the list), by gate name (upstream's order is a map's).
 */
function unmetDependencies(
  enabled: ReadonlyMap<string, boolean>,
  table: ReadonlyMap<string, FeatureGateSpec>,
): InvalidFeatureGateError[] {
  const unmet: InvalidFeatureGateError[] = [];
  for (const spec of [...table.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!enabled.get(spec.name)) continue;
    const off = spec.dependsOn.filter((dep) => !enabled.get(dep));
    if (off.length > 0)
      unmet.push(
        new InvalidFeatureGateError(
          spec.name,
          true,
          `${spec.name} is enabled, but depends on features that are disabled: [${off.join(' ')}]`,
        ),
      );
  }
  return unmet;
}

/** Upstream's utilerrors aggregate: one error as itself, several as `[a, b]`. */
function aggregate(problems: InvalidFeatureGateError[]): InvalidFeatureGateError {
  if (problems.length === 1) return problems[0]!;
  const reason = `[${problems.map((p) => p.reason).join(', ')}]`;
  const first = problems[0]!;
  return new InvalidFeatureGateError(first.gate, first.gateValue, reason);
}

function effectiveValues(
  requested: Readonly<Record<string, boolean>>,
  table: ReadonlyMap<string, FeatureGateSpec>,
): Map<string, boolean> {
  const enabled = new Map<string, boolean>();
  for (const spec of table.values()) enabled.set(spec.name, spec.default);
  for (const [special, stage] of Object.entries(SPECIAL)) {
    const on = requested[special];
    if (on === undefined) continue;
    for (const spec of table.values())
      if (spec.stage === stage && !spec.lockToDefault) enabled.set(spec.name, on);
  }
  for (const [gate, value] of Object.entries(requested)) enabled.set(gate, value);
  return enabled;
}
