import { unsupportedFieldWarnings } from '@nodeagent/kubelet/config';
import {
  FEATURE_GATES_V1_36,
  HONOURED_FEATURE_GATES,
  resolveFeatureGates,
  unimplementedGateChanges,
} from '@nodeagent/primitives/feature-gates';
import type { ResolvedKubeletOptions } from './kubelet-flags';

export interface StartupWarning {
  /** The field or flag the warning names. */
  field: string;
  value?: unknown;
  message: string;
}

/**
 * Everything in the configuration and flags that this kubelet accepts but does not act on, one
 * warning each, for the binary to log before it starts: nothing is ignored silently.
 */
export function startupWarnings(options: ResolvedKubeletOptions): StartupWarning[] {
  const { config } = options;
  const warnings: StartupWarning[] = options.unknownFields.map((field) => ({
    field,
    message: `unknown KubeletConfiguration field ${field} ignored`,
  }));
  warnings.push(...unsupportedFieldWarnings(config));
  warnings.push(...featureGateWarnings(config.featureGates));
  if (config.logging.vmodule.length > 0) {
    warnings.push({
      field: 'logging.vmodule',
      value: config.logging.vmodule,
      message: 'logging.vmodule is not supported by this kubelet and has no effect',
    });
  }
  // Flags accepted for compatibility that do nothing here (cAdvisor's, lock files…), by name.
  for (const flag of options.noEffectFlags)
    warnings.push({ field: flag.flag, value: flag.value, message: flag.message });
  return warnings;
}

/**
 * Upstream's warning for each GA or deprecated gate set, then one naming every gate set away
 * from its v1.36 default whose behaviour this kubelet does not implement (it behaves as with the
 * default). The gates it reads are in HONOURED_FEATURE_GATES.kubelet; the configuration was
 * validated, so resolving cannot fail here.
 */
function featureGateWarnings(featureGates: Readonly<Record<string, boolean>>): StartupWarning[] {
  const { enabled, warnings } = resolveFeatureGates(featureGates, FEATURE_GATES_V1_36);
  const out: StartupWarning[] = warnings.map((w) => ({
    field: 'featureGates',
    value: { [w.gate]: w.value },
    message: w.message,
  }));
  const ignored = unimplementedGateChanges(enabled, FEATURE_GATES_V1_36, HONOURED_FEATURE_GATES.kubelet);
  if (ignored.length > 0)
    out.push({
      field: 'featureGates',
      value: Object.fromEntries(ignored.map((gate) => [gate, enabled.get(gate)])),
      message: `featureGates ${ignored.map((gate) => `${gate}=${enabled.get(gate)}`).join(',')} have no effect: this kubelet does not implement these features and behaves as with their v1.36 defaults`,
    });
  return out;
}
