import { join } from 'node:path';
import {
  type ContainerConfig,
  type MessageInput,
  type Mount,
  MountPropagation,
  type UserNamespace,
} from '@nodeagent/cri-client/types';
import type { Container, Pod } from '../api/pod-types';
import { type EnvVarValue, expandCommand } from '../env/resolve-env';
import { CreateContainerConfigError } from '../errors';
import { containerHash } from './container-hash';
import {
  containerHashAnnotation,
  containerNameLabel,
  containerPortsAnnotation,
  containerPreStopHandlerAnnotation,
  containerRestartCountAnnotation,
  containerTerminationMessagePathAnnotation,
  containerTerminationMessagePolicyAnnotation,
  podDeletionGracePeriodAnnotation,
  podNameLabel,
  podNamespaceLabel,
  podTerminationGracePeriodAnnotation,
  podUidLabel,
} from './labels';
import { type LinuxResourceOptions, linuxContainerResources } from './linux-resources';
import { containerLogPath } from './log-paths';
import type { SeccompOptions } from './seccomp-profile';
import { linuxContainerSecurityContext } from './security-context';
import { type ImageUser, verifyRunAsNonRoot } from './verify-run-as-non-root';

export { defaultMaskedPaths, defaultReadonlyPaths } from './security-context';

/** Where a container writes its termination message when terminationMessagePath is unset (upstream's API default). */
export const defaultTerminationMessagePath = '/dev/termination-log';
/** Upstream's Localhost seccomp profile root under the default --root-dir. */
export const defaultSeccompProfileRoot = '/var/lib/kubelet/seccomp';

/** A pod volume as set up on the node: where it lives on the host. */
export interface MountedVolume {
  /** Empty for an image volume: the runtime mounts the image itself. */
  hostPath: string;
  /** The volume itself is read-only (configMap, secret, downwardAPI, projected, image). */
  readOnly?: boolean;
  /**
   * An image volume's image (CRI Mount.image), the resolved reference once the sync has pulled
   * it. A runtime without image mounts (containerd 1.6) ignores the field and sees an empty host
   * path, and fails the container as it does under upstream's kubelet.
   */
  image?: { image: string; userSpecifiedImage: string };
  /** A block volume (volumeMode: Block): `hostPath` is the device, given to containers as a CRI Device. */
  block?: boolean;
}

/**
 * What buildContainerConfig needs beyond the pod and container spec: runtime facts, resolved env, mounted volumes
 * and node settings.
 */
export interface ContainerConfigOptions extends LinuxResourceOptions {
  /** Restart count: CRI metadata attempt and the log file number. */
  restartCount: number;
  /** The resolved image reference (image id) to run; defaults to the spec's image. */
  imageRef?: string;
  env: EnvVarValue[];
  /** Volumes of the pod by name, as set up by the volume manager. */
  volumes: ReadonlyMap<string, MountedVolume>;
  /** Host file mounted at terminationMessagePath, if the kubelet created one. */
  terminationMessageHostPath?: string;
  /**
   * The image's configured user (CRI ImageStatus uid/username; neither means root). Checked
   * against runAsNonRoot and sent as runAsUser/runAsUsername when the spec sets no runAsUser.
   * Without it the image is taken to run as root, as upstream does when the runtime names no user.
   */
  imageUser?: ImageUser;
  /** Localhost seccomp profiles root (`<root-dir>/seccomp`) and KubeletConfiguration.seccompDefault. */
  seccomp?: SeccompOptions;
  /** ID mappings of the pod's user namespace, for hostUsers: false. */
  userNamespace?: MessageInput<UserNamespace>;
  /** Runtime id of the container whose PID namespace to join (ephemeral targetContainerName). */
  pidTargetContainerId?: string;
  /** Each volumeMount's subPath with subPathExpr expanded (sync/subpaths.ts); default: spec subPath. */
  subPaths?: readonly (string | undefined)[];
  /** Host file mounted at /etc/hosts (the kubelet-managed hosts file, see sync/etc-hosts.ts). */
  etcHostsPath?: string;
}

/** A container's volumeMounts → CRI mounts, resolving subPath inside the volume. */
export function containerMounts(
  container: Container,
  volumes: ReadonlyMap<string, MountedVolume>,
  subPaths?: readonly (string | undefined)[],
): MessageInput<Mount>[] {
  return (container.volumeMounts ?? []).map((mount, index) => {
    const volume = volumes.get(mount.name);
    // A block volume has no mounter (upstream makeMounts): it can only be a volumeDevice.
    if (!volume || volume.block) {
      throw new CreateContainerConfigError(
        `volumeMounts[${index}].name`,
        mount.name,
        'volume is not mounted',
      );
    }
    const propagation =
      mount.mountPropagation === 'Bidirectional'
        ? MountPropagation.PROPAGATION_BIDIRECTIONAL
        : mount.mountPropagation === 'HostToContainer'
          ? MountPropagation.PROPAGATION_HOST_TO_CONTAINER
          : MountPropagation.PROPAGATION_PRIVATE;
    const subPath = subPaths ? subPaths[index] : mount.subPath;
    return {
      containerPath: mount.mountPath,
      hostPath: subPath ? join(volume.hostPath, subPath) : volume.hostPath,
      readonly: mount.readOnly === true || volume.readOnly === true,
      propagation,
      ...(volume.image !== undefined ? { image: volume.image } : {}),
    };
  });
}

/**
 * A container's volumeDevices → CRI devices (upstream makeBlockVolumes): the block volume's device
 * at devicePath, `mrw`, or `r` for a read-only volume.
 */
export function containerDevices(
  container: Container,
  volumes: ReadonlyMap<string, MountedVolume>,
): { containerPath: string; hostPath: string; permissions: string }[] {
  return (container.volumeDevices ?? []).map((device, index) => {
    if (!device.devicePath.startsWith('/'))
      throw new CreateContainerConfigError(
        `volumeDevices[${index}].devicePath`,
        device.devicePath,
        `error DevicePath \`${device.devicePath}\` must be an absolute path`,
      );
    const volume = volumes.get(device.name);
    if (!volume?.block)
      throw new CreateContainerConfigError(
        `volumeDevices[${index}].name`,
        device.name,
        `cannot find volume ${JSON.stringify(device.name)} to pass into container ${JSON.stringify(container.name)}`,
      );
    return {
      containerPath: device.devicePath,
      hostPath: volume.hostPath,
      permissions: volume.readOnly ? 'r' : 'mrw',
    };
  });
}

/** The labels on a container: which pod and which spec container it is. */
export function containerLabels(pod: Pod, container: Container): Record<string, string> {
  return {
    [containerNameLabel]: container.name,
    [podNameLabel]: pod.metadata.name ?? '',
    [podNamespaceLabel]: pod.metadata.namespace ?? 'default',
    [podUidLabel]: pod.metadata.uid ?? '',
  };
}

/** The annotations upstream records on a container to restore its status after a kubelet restart. */
export function containerAnnotations(
  pod: Pod,
  container: Container,
  restartCount: number,
): Record<string, string> {
  const annotations: Record<string, string> = {
    [containerHashAnnotation]: containerHash(container),
    [containerRestartCountAnnotation]: String(restartCount),
    [containerTerminationMessagePathAnnotation]:
      container.terminationMessagePath ?? defaultTerminationMessagePath,
    [containerTerminationMessagePolicyAnnotation]: container.terminationMessagePolicy ?? 'File',
  };
  if (
    pod.metadata.deletionGracePeriodSeconds !== undefined &&
    pod.metadata.deletionGracePeriodSeconds !== null
  )
    annotations[podDeletionGracePeriodAnnotation] = String(pod.metadata.deletionGracePeriodSeconds);
  if (pod.spec.terminationGracePeriodSeconds !== undefined) {
    annotations[podTerminationGracePeriodAnnotation] = String(pod.spec.terminationGracePeriodSeconds);
  }
  if (container.lifecycle?.preStop)
    annotations[containerPreStopHandlerAnnotation] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports && container.ports.length > 0)
    annotations[containerPortsAnnotation] = JSON.stringify(container.ports);
  return annotations;
}

/**
 * Container spec → CRI ContainerConfig (upstream generateContainerConfig). The return type is
 * inferred (checked with `satisfies`) so the fields the kubelet always sets stay non-optional.
 */
export function buildContainerConfig(pod: Pod, container: Container, options: ContainerConfigOptions) {
  const mounts = containerMounts(container, options.volumes, options.subPaths);
  // Host-network pods get it too: the node's file plus their hostAliases (upstream makeMounts).
  if (options.etcHostsPath && !mounts.some((m) => m.containerPath === '/etc/hosts')) {
    mounts.push({
      containerPath: '/etc/hosts',
      hostPath: options.etcHostsPath,
      readonly: false,
      propagation: 0,
    });
  }
  if (options.terminationMessageHostPath) {
    mounts.push({
      containerPath: container.terminationMessagePath ?? defaultTerminationMessagePath,
      hostPath: options.terminationMessageHostPath,
      readonly: false,
      propagation: 0,
    });
  }
  const imageUser = options.imageUser ?? { uid: 0 };
  verifyRunAsNonRoot(pod, container, imageUser);
  const securityContext = linuxContainerSecurityContext(pod, container, {
    ...(options.seccomp ?? { profileRoot: defaultSeccompProfileRoot, seccompDefault: false }),
    imageUser,
    userNamespace: options.userNamespace,
    pidTargetContainerId: options.pidTargetContainerId,
  });
  return {
    metadata: { name: container.name, attempt: options.restartCount },
    image: { image: options.imageRef ?? container.image ?? '', userSpecifiedImage: container.image ?? '' },
    command: expandCommand(container.command, options.env),
    args: expandCommand(container.args, options.env),
    workingDir: container.workingDir ?? '',
    envs: options.env,
    labels: containerLabels(pod, container),
    annotations: containerAnnotations(pod, container, options.restartCount),
    logPath: containerLogPath(container.name, options.restartCount),
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    // In a pod user namespace every mount is ID-mapped like the pod (upstream
    // applyPlatformSpecificContainerConfig).
    devices: containerDevices(container, options.volumes),
    mounts: options.userNamespace?.uids?.length
      ? mounts.map((mount) => ({
          ...mount,
          uidMappings: options.userNamespace?.uids ?? [],
          gidMappings: options.userNamespace?.gids ?? [],
        }))
      : mounts,
    linux: {
      resources: linuxContainerResources(pod, container, options),
      securityContext,
    },
  } satisfies MessageInput<ContainerConfig>;
}
