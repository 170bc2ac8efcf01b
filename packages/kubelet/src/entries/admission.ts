// @nodeagent/kubelet/admission: Pod admission: the handlers the kubelet runs before it accepts a pod (sysctls, ephemeral containers, AppArmor).
export {
  admitPod,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
  podRejectedPrefix,
} from '../admission/admit-handler';
export {
  type EphemeralContainerCheck,
  type EphemeralContainerChecksOptions,
  ephemeralContainerChecks,
} from '../admission/ephemeral-container-checks';
export {
  type AdmissionNode,
  admissionNodeOf,
  generalPredicatesAdmitHandler,
} from '../admission/general-predicates-admit';
export { type KubeletAdmitHandlersOptions, kubeletAdmitHandlers } from '../admission/kubelet-admit-handlers';
export {
  noPodCgroupPodLevelResourcesMessage,
  podLevelResourcesAdmitHandler,
  podLevelResourcesNotSupportedReason,
} from '../admission/pod-level-resources-admit';
export { resourceFitAdmitHandler } from '../admission/resource-fit-admit';
export { safeSysctlAllowlist, safeSysctls } from '../admission/safe-sysctls';
export { SysctlAllowlist, sysctlForbiddenReason } from '../admission/sysctl-allowlist';
