// @nodeagent/kubelet/cri: Translation of a pod into CRI sandbox and container configs: security context, seccomp, AppArmor,
// DNS, labels, log paths, Linux resources.

export {
  configHashAnnotation,
  configMirrorAnnotation,
  configSeenAnnotation,
  configSourceAnnotation,
} from '../api/config-source';
export {
  appArmorAdmission,
  appArmorHostError,
  containerAppArmor,
  effectiveAppArmorProfile,
} from '../cri/apparmor-profile';
export * from '../cri/container-config';
export * from '../cri/container-memory-qos';
export * from '../cri/container-swap';
export * from '../cri/critical-pod';
export * from '../cri/dns-config';
export * from '../cri/kubelet-id-mapping';
export * from '../cri/labels';
export * from '../cri/linux-resources';
export * from '../cri/log-paths';
export * from '../cri/runtime-cgroup-driver';
export * from '../cri/sandbox-config';
export { containerSeccompProfile, type SeccompOptions } from '../cri/seccomp-profile';
export {
  type ContainerSecurityOptions,
  effectiveSecurityContext,
  linuxContainerSecurityContext,
  linuxSandboxSecurityContext,
  namespacesForPod,
} from '../cri/security-context';
export { SecurityContextError } from '../cri/security-context-error';
export * from '../cri/user-namespaces';
export { type ImageUser, verifyRunAsNonRoot } from '../cri/verify-run-as-non-root';
export { formatPod } from '../events/event-reasons';
