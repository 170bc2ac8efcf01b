import { existsSync } from 'node:fs';
import type { Pod, SELinuxOptions } from '../api/pod-types';
import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';

/** selinuxfs's enforce switch: present only where the kernel runs SELinux (what runc checks first). */
export const seLinuxEnforcePath = '/sys/fs/selinux/enforce';
export const seLinuxNotAdmittedReason = 'SELinux';

export function asksForLabel(options: SELinuxOptions | undefined): boolean {
  return Boolean(options?.user || options?.role || options?.type || options?.level);
}

/** The first field path whose seLinuxOptions ask for a label, pod level first. */
function seLinuxOptionsField(pod: Pod): string | undefined {
  if (asksForLabel(pod.spec.securityContext?.seLinuxOptions)) return 'spec.securityContext.seLinuxOptions';
  for (const list of ['initContainers', 'containers'] as const) {
    const index = (pod.spec[list] ?? []).findIndex((c) => asksForLabel(c.securityContext?.seLinuxOptions));
    if (index >= 0) return `spec.${list}[${index}].securityContext.seLinuxOptions`;
  }
  return undefined;
}

/**
 * Beyond upstream, only with the Kubelet's strictAdmission option: upstream's kubelet hands
 * seLinuxOptions to the runtime, which labels nothing on a host without SELinux, so the pod runs
 * (unconfined by SELinux) and the e2e suite relies on that. The strict mode refuses such a pod
 * instead, in the shape of upstream's AppArmor refusal (reason and "Cannot enforce ..." message).
 * `hostEnabled` is read once when the kubelet starts, as upstream reads AppArmor's.
 */
export function seLinuxAdmitHandler(hostEnabled: boolean = existsSync(seLinuxEnforcePath)): PodAdmitHandler {
  return {
    admit({ pod }: PodAdmitAttributes): PodAdmitResult {
      if (hostEnabled) return admitted;
      const field = seLinuxOptionsField(pod);
      if (!field) return admitted;
      return {
        admit: false,
        reason: seLinuxNotAdmittedReason,
        message: `Cannot enforce SELinux: SELinux is not enabled on the host (${field})`,
      };
    },
  };
}
