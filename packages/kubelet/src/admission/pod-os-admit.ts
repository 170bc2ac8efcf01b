import type { Container, Pod, WindowsSecurityContextOptions } from '../api/pod-types';
import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';

/** The only OS this kubelet runs pods on (upstream compares with runtime.GOOS). */
export const nodeOS = 'linux';
export const osLabel = 'kubernetes.io/os';
export const podOSSelectorNodeLabelDoesNotMatch = 'PodOSSelectorNodeLabelDoesNotMatch';
export const podOSNotSupported = 'PodOSNotSupported';

/** Whether Windows options ask for anything (an empty object or hostProcess: false ask for nothing). */
export function asksForWindows(options: WindowsSecurityContextOptions | undefined): boolean {
  if (!options) return false;
  return (
    options.hostProcess === true ||
    Boolean(options.gmsaCredentialSpecName) ||
    Boolean(options.gmsaCredentialSpec) ||
    Boolean(options.runAsUserName)
  );
}

/** The first field path whose windowsOptions ask for something, pod level first. */
function windowsOptionsField(pod: Pod): string | undefined {
  if (asksForWindows(pod.spec.securityContext?.windowsOptions)) return 'spec.securityContext.windowsOptions';
  const lists: [string, Container[] | undefined][] = [
    ['initContainers', pod.spec.initContainers],
    ['containers', pod.spec.containers],
  ];
  for (const [list, containers] of lists) {
    const index = (containers ?? []).findIndex((c) => asksForWindows(c.securityContext?.windowsOptions));
    if (index >= 0) return `spec.${list}[${index}].securityContext.windowsOptions`;
  }
  return undefined;
}

/**
 * Upstream's OS checks of the predicate admit handler: a pod labelled `kubernetes.io/os` for
 * another OS, or whose `spec.os.name` is not linux, is refused before anything runs. Windows-only
 * security options are not looked at: upstream's Linux kubelet ignores them (see
 * windowsOptionsAdmitHandler for the opt-in refusal).
 */
export const podOSAdmitHandler: PodAdmitHandler = {
  admit({ pod }: PodAdmitAttributes): PodAdmitResult {
    const label = pod.metadata.labels?.[osLabel];
    if (label !== undefined && label !== nodeOS)
      return {
        admit: false,
        reason: podOSSelectorNodeLabelDoesNotMatch,
        message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
      };
    if (pod.spec.os && pod.spec.os.name !== nodeOS)
      return {
        admit: false,
        reason: podOSNotSupported,
        message: "Failed to admit pod as the OS field doesn't match node OS",
      };
    return admitted;
  },
};

/**
 * Beyond upstream, only with the Kubelet's strictAdmission option: Windows-only security options
 * (gMSA credential specs, runAsUserName, hostProcess) cannot be honoured on Linux, so a pod asking
 * for one is refused with PodOSNotSupported instead of running without them.
 */
export const windowsOptionsAdmitHandler: PodAdmitHandler = {
  admit({ pod }: PodAdmitAttributes): PodAdmitResult {
    const field = windowsOptionsField(pod);
    if (!field) return admitted;
    return {
      admit: false,
      reason: podOSNotSupported,
      message: `Failed to admit pod as ${field} is Windows-only and the node OS is ${nodeOS}`,
    };
  },
};
