import { existsSync } from 'node:fs';
import type { Pod } from '../../api/pod-types';
import type { CsiDriverObject } from './csi-storage-objects';

/** Whether the host runs SELinux (upstream selinux.GetEnabled: selinuxfs is mounted). */
export function hostSELinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}

/** Thrown where upstream would mount with an SELinux context and this kubelet cannot compute one. */
export class SELinuxMountUnsupportedError extends Error {
  readonly code = 'SELinuxMountUnsupported';
}

function podSELinuxLevel(pod: Pod): string | undefined {
  type WithSELinux = { securityContext?: { seLinuxOptions?: { level?: string } } };
  const levels = [
    (pod.spec as WithSELinux).securityContext?.seLinuxOptions?.level,
    ...pod.spec.containers.map((c) => (c as WithSELinux).securityContext?.seLinuxOptions?.level),
  ];
  return levels.find((l) => l !== undefined && l !== '');
}

/**
 * Upstream's SELinux mount (SELinuxMountReadWriteOncePod): on an SELinux host, for a driver with
 * seLinuxMount: true and a ReadWriteOncePod volume whose pod sets an SELinux level, the kubelet
 * mounts with `-o context=<label>` built from the host's policy. Without SELinux on the host (the
 * usual case here) upstream passes no context and neither does this kubelet. Where upstream would
 * pass one, this kubelet cannot build the label (it has no libselinux), so the mount is refused by
 * name instead of going ahead without the context.
 */
export function checkSELinuxMount(
  pod: Pod,
  driver: CsiDriverObject | undefined,
  accessModes: string[] | undefined,
  selinuxEnabled: boolean,
): void {
  if (!selinuxEnabled || driver?.spec?.seLinuxMount !== true) return;
  if (!accessModes?.includes('ReadWriteOncePod')) return;
  const level = podSELinuxLevel(pod);
  if (level === undefined) return;
  throw new SELinuxMountUnsupportedError(
    `kubernetes.io/csi: CSIDriver seLinuxMount: true asks for an SELinux context mount (level ${JSON.stringify(level)}), which this kubelet does not build on an SELinux host; set seLinuxMount: false on the CSIDriver or run the node without SELinux`,
  );
}
