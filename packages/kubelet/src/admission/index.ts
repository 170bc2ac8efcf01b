// @nodeagent/kubelet/admission: Pod admission: the handlers the kubelet runs before it accepts a pod (sysctls, ephemeral containers, AppArmor).
export {
  admitPod,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
  podRejectedPrefix,
} from './admit-handler';
export {
  type EphemeralContainerCheck,
  type EphemeralContainerChecksOptions,
  ephemeralContainerChecks,
} from './ephemeral-container-checks';
export { type KubeletAdmitHandlersOptions, kubeletAdmitHandlers } from './kubelet-admit-handlers';
export { safeSysctlAllowlist, safeSysctls } from './safe-sysctls';
export { SysctlAllowlist, sysctlForbiddenReason } from './sysctl-allowlist';
