import { existsSync } from 'node:fs';
import type { EphemeralContainer, Pod } from '../api/pod-types';
import { appArmorAdmission, appArmorHostError } from '../cri/apparmor-profile';
import { asksForWindows, nodeOS } from './pod-os-admit';
import { asksForLabel, seLinuxEnforcePath } from './selinux-admit';

/** Why an ephemeral container may not start, or undefined when it may. */
export type EphemeralContainerCheck = (pod: Pod, container: EphemeralContainer) => string | undefined;

/** Host facts for ephemeralContainerChecks; each defaults to what this host reports. */
export interface EphemeralContainerChecksOptions {
  /** Whether the host enforces SELinux (default: selinuxfs is mounted), as the SELinux admit handler. */
  seLinuxEnabled?: boolean;
  /** Why the host cannot enforce AppArmor, undefined when it can (default: read from the kernel now). */
  appArmorHostError?: () => string | undefined;
  /** The Kubelet's strictAdmission: also refuse SELinux labels without SELinux and Windows-only options. */
  strictAdmission?: boolean;
}

/**
 * The admit handlers' per-container security refusals, for ephemeral containers: they are added to
 * a pod that was admitted already, so admission never sees them. An ephemeral container asking for
 * an AppArmor profile the host cannot enforce (or, with strictAdmission, an SELinux label on a
 * host without SELinux or Windows-only options) is not started (the kubelet reports it waiting with
 * CreateContainerConfigError) instead of running without the setting. Host state is read once,
 * here, as the admit handlers read it at start.
 */
export function ephemeralContainerChecks(
  options: EphemeralContainerChecksOptions = {},
): EphemeralContainerCheck {
  const seLinuxEnabled = options.seLinuxEnabled ?? existsSync(seLinuxEnforcePath);
  const appArmorUnavailable = (options.appArmorHostError ?? appArmorHostError)();
  const strict = options.strictAdmission ?? false;
  return (pod, container) => {
    const index = (pod.spec.ephemeralContainers ?? []).findIndex((c) => c.name === container.name);
    const field = `spec.ephemeralContainers[${index}].securityContext`;
    const security = container.securityContext;
    if (strict && !seLinuxEnabled && asksForLabel(security?.seLinuxOptions))
      return `Cannot enforce SELinux: SELinux is not enabled on the host (${field}.seLinuxOptions)`;
    if (strict && asksForWindows(security?.windowsOptions))
      return `${field}.windowsOptions is Windows-only and the node OS is ${nodeOS}`;
    // The pod's own settings were admitted; judged with this container as its only one.
    const alone: Pod = {
      ...pod,
      spec: { ...pod.spec, initContainers: [], containers: [], ephemeralContainers: [container] },
    };
    const appArmor = appArmorAdmission(alone, appArmorUnavailable);
    return appArmor.admit ? undefined : appArmor.message;
  };
}
