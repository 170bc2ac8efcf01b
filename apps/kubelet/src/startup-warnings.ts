import { unsupportedFieldWarnings } from '@nodeagent/kubelet';
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
  const gates = Object.entries(config.featureGates);
  if (gates.length > 0) {
    warnings.push({
      field: 'featureGates',
      value: config.featureGates,
      message: `featureGates ${gates.map(([name, on]) => `${name}=${on}`).join(',')} have no effect: this kubelet runs its v1.34 default behaviour and implements no feature gates`,
    });
  }
  // enforceNodeAllocatable: only "pods" is enforced, and only on the QoS cgroup hierarchy.
  const levels = config.enforceNodeAllocatable.filter((level) => level !== 'pods' && level !== 'none');
  if (levels.length > 0) {
    warnings.push({
      field: 'enforceNodeAllocatable',
      value: config.enforceNodeAllocatable,
      message: `enforceNodeAllocatable levels ${levels.join(',')} are not supported by this kubelet: only pods is enforced`,
    });
  }
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
