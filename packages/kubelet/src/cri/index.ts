// @nodeagent/kubelet/cri: Translation of a pod into CRI sandbox and container configs: security context, seccomp, AppArmor,
// DNS, labels, log paths, Linux resources.
export {
  appArmorAdmission,
  appArmorHostError,
  containerAppArmor,
  effectiveAppArmorProfile,
} from './apparmor-profile';
export * from './container-config';
export * from './dns-config';
export * from './labels';
export * from './linux-resources';
export * from './log-paths';
export * from './sandbox-config';
export { containerSeccompProfile, type SeccompOptions } from './seccomp-profile';
export {
  type ContainerSecurityOptions,
  effectiveSecurityContext,
  linuxContainerSecurityContext,
  linuxSandboxSecurityContext,
  namespacesForPod,
} from './security-context';
export { SecurityContextError } from './security-context-error';
export { formatPod, type ImageUser, verifyRunAsNonRoot } from './verify-run-as-non-root';
