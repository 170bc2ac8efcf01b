import {
  type LinuxContainerSecurityContext,
  type LinuxSandboxSecurityContext,
  type MessageInput,
  NamespaceMode,
  type NamespaceOption,
  type SELinuxOption,
  SupplementalGroupsPolicy,
  type UserNamespace,
} from '@nodeagent/cri-client/types';
import type { Container, Pod, SELinuxOptions, SecurityContext } from '../api/pod-types';
import { allContainers, containerAppArmor } from './apparmor-profile';
import type { ImageUser } from './image-user';
import { containerSeccompProfile, type SeccompOptions, sandboxSeccompProfile } from './seccomp-profile';
import { SecurityContextError } from './security-context-error';

/** Upstream securitycontext default masked /proc and /sys paths (kept in sync with moby). */
export const defaultMaskedPaths = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
/** Upstream securitycontext default read-only /proc paths. */
export const defaultReadonlyPaths = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/**
 * Upstream DetermineEffectiveSecurityContext: the pod-level fields a container inherits
 * (seLinuxOptions, windowsOptions, runAsUser, runAsGroup, runAsNonRoot) overridden by the
 * container's own; the other container fields as set on the container.
 */
export function effectiveSecurityContext(pod: Pod, container: Container): SecurityContext {
  const podSc = pod.spec.securityContext;
  const inherited: SecurityContext = {};
  if (podSc?.seLinuxOptions) inherited.seLinuxOptions = podSc.seLinuxOptions;
  if (podSc?.windowsOptions) inherited.windowsOptions = podSc.windowsOptions;
  if (podSc?.runAsUser !== undefined) inherited.runAsUser = podSc.runAsUser;
  if (podSc?.runAsGroup !== undefined) inherited.runAsGroup = podSc.runAsGroup;
  if (podSc?.runAsNonRoot !== undefined) inherited.runAsNonRoot = podSc.runAsNonRoot;
  const own = container.securityContext ?? {};
  const effective: SecurityContext = { ...inherited };
  for (const [key, value] of Object.entries(own) as [keyof SecurityContext, unknown][]) {
    if (value === undefined) continue;
    if (key === 'windowsOptions') {
      // Only the Windows fields set on the container override the pod's (upstream).
      effective.windowsOptions = { ...inherited.windowsOptions, ...own.windowsOptions };
    } else {
      (effective as Record<string, unknown>)[key] = value;
    }
  }
  return effective;
}

/** Upstream NetworkNamespaceForPod / PidNamespaceForPod / IpcNamespaceForPod. */
export function podNamespaceModes(pod: Pod): {
  network: NamespaceMode;
  pid: NamespaceMode;
  ipc: NamespaceMode;
} {
  return {
    network: pod.spec.hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD,
    pid: pod.spec.hostPID
      ? NamespaceMode.NODE
      : pod.spec.shareProcessNamespace
        ? NamespaceMode.POD
        : NamespaceMode.CONTAINER,
    ipc: pod.spec.hostIPC ? NamespaceMode.NODE : NamespaceMode.POD,
  };
}

/**
 * Upstream NamespacesForPod with the UserNamespacesSupport gate on (its v1.34 default): the
 * node's user namespace unless the pod sets hostUsers: false, which needs ID mappings the caller
 * allocated (`userNamespace`); without them the pod is refused rather than run in the node's.
 */
export function namespacesForPod(
  pod: Pod,
  userNamespace?: MessageInput<UserNamespace>,
): MessageInput<NamespaceOption> {
  let usernsOptions: MessageInput<UserNamespace> = { mode: NamespaceMode.NODE };
  if (pod.spec.hostUsers === false) {
    if (!userNamespace) {
      throw new SecurityContextError(
        'spec.hostUsers',
        false,
        'hostUsers: false needs a user namespace, and this kubelet allocates no user namespace mappings',
      );
    }
    usernsOptions = userNamespace;
  }
  return { ...podNamespaceModes(pod), usernsOptions };
}

function seLinuxOption(options: SELinuxOptions | undefined): MessageInput<SELinuxOption> | null {
  if (!options) return null;
  return {
    user: options.user ?? '',
    role: options.role ?? '',
    type: options.type ?? '',
    level: options.level ?? '',
  };
}

/** Upstream: the pod's supplementalGroupsPolicy by its CRI enum name; anything else is refused. */
function supplementalGroupsPolicy(pod: Pod): SupplementalGroupsPolicy {
  const policy = pod.spec.securityContext?.supplementalGroupsPolicy;
  if (policy === undefined) return SupplementalGroupsPolicy.Merge;
  if (!Object.hasOwn(SupplementalGroupsPolicy, policy)) {
    throw new SecurityContextError(
      'spec.securityContext.supplementalGroupsPolicy',
      policy,
      `unsupported supplementalGroupsPolicy: ${policy}`,
    );
  }
  return SupplementalGroupsPolicy[policy];
}

/** fsGroup, then the pod's supplementalGroups, as upstream appends them (Linux). */
function podSupplementalGroups(pod: Pod): number[] {
  const podSc = pod.spec.securityContext;
  return [...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc?.supplementalGroups ?? [])];
}

/**
 * What linuxContainerSecurityContext needs beyond the pod and container: seccomp settings, the image's user,
 * user-namespace ID mappings and the PID namespace to join.
 */
export interface ContainerSecurityOptions extends SeccompOptions {
  /** The image's configured user (CRI ImageStatus); used when no runAsUser is set. */
  imageUser?: ImageUser;
  /** ID mappings of the pod's user namespace, for hostUsers: false. */
  userNamespace?: MessageInput<UserNamespace>;
  /**
   * The runtime id of the container whose PID namespace this one joins (an ephemeral container's
   * targetContainerName): upstream generateLinuxContainerConfig's nsTarget.
   */
  pidTargetContainerId?: string;
}

/**
 * Upstream determineEffectiveSecurityContext: the container's LinuxContainerSecurityContext,
 * field by field as upstream v1.34 fills it.
 */
export function linuxContainerSecurityContext(
  pod: Pod,
  container: Container,
  options: ContainerSecurityOptions,
) {
  const effective = effectiveSecurityContext(pod, container);
  const unmasked = effective.procMount === 'Unmasked';
  const { apparmor, apparmorProfile } = containerAppArmor(pod, container);
  const capabilities = effective.capabilities;
  let runAsUser = effective.runAsUser !== undefined ? { value: effective.runAsUser } : null;
  let runAsUsername = '';
  if (!runAsUser) {
    // Upstream: the image's user; a uid goes to runAsUser, a name to runAsUsername.
    if (options.imageUser?.uid !== undefined) runAsUser = { value: options.imageUser.uid };
    runAsUsername = options.imageUser?.username ?? '';
  }
  const namespaceOptions = namespacesForPod(pod, options.userNamespace);
  if (options.pidTargetContainerId && namespaceOptions.pid === NamespaceMode.CONTAINER) {
    // Upstream: only a container with a PID namespace of its own can join the target's.
    namespaceOptions.pid = NamespaceMode.TARGET;
    namespaceOptions.targetId = options.pidTargetContainerId;
  }
  return {
    capabilities: capabilities
      ? { addCapabilities: capabilities.add ?? [], dropCapabilities: capabilities.drop ?? [] }
      : null,
    privileged: effective.privileged === true,
    namespaceOptions,
    selinuxOptions: seLinuxOption(effective.seLinuxOptions),
    runAsUser,
    runAsUsername,
    runAsGroup: effective.runAsGroup !== undefined ? { value: effective.runAsGroup } : null,
    readonlyRootfs: effective.readOnlyRootFilesystem === true,
    supplementalGroups: podSupplementalGroups(pod),
    supplementalGroupsPolicy: supplementalGroupsPolicy(pod),
    // Upstream AddNoNewPrivileges: only an explicit allowPrivilegeEscalation: false sets it.
    noNewPrivs: effective.allowPrivilegeEscalation === false,
    // Upstream sends the defaults for privileged containers too; the runtime drops them there.
    maskedPaths: unmasked ? [] : defaultMaskedPaths,
    readonlyPaths: unmasked ? [] : defaultReadonlyPaths,
    seccomp: containerSeccompProfile(pod, container, options),
    apparmor,
    apparmorProfile,
  } satisfies MessageInput<LinuxContainerSecurityContext>;
}

/** Upstream HasPrivilegedContainer: any init, regular or ephemeral container asks for privileged. */
function hasPrivilegedContainer(pod: Pod): boolean {
  return allContainers(pod).some((container) => container.securityContext?.privileged === true);
}

/**
 * Upstream generatePodSandboxLinuxConfig's LinuxSandboxSecurityContext: privileged when any
 * container is, RuntimeDefault seccomp, and the pod-level user, groups, namespaces and SELinux
 * label. (Upstream fills the pod-level part only when spec.securityContext is set, which the API
 * server's defaulting always does; here an absent one counts as empty.)
 */
export function linuxSandboxSecurityContext(pod: Pod, userNamespace?: MessageInput<UserNamespace>) {
  const podSc = pod.spec.securityContext ?? {};
  return {
    privileged: hasPrivilegedContainer(pod),
    seccomp: sandboxSeccompProfile(),
    runAsUser: podSc.runAsUser !== undefined ? { value: podSc.runAsUser } : null,
    runAsGroup: podSc.runAsGroup !== undefined ? { value: podSc.runAsGroup } : null,
    namespaceOptions: namespacesForPod(pod, userNamespace),
    supplementalGroups: podSupplementalGroups(pod),
    supplementalGroupsPolicy: supplementalGroupsPolicy(pod),
    selinuxOptions: seLinuxOption(podSc.seLinuxOptions),
    readonlyRootfs: false,
  } satisfies MessageInput<LinuxSandboxSecurityContext>;
}
