import type { RuntimeFeatures } from '../cri/pod-runtime';
import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';

export const supplementalGroupsPolicyNotSupported = 'SupplementalGroupsPolicyNotSupported';
/** Upstream's event reason when a pod's sandbox cannot be created; the strict user-namespace refusal uses it. */
export const failedCreatePodSandBox = 'FailedCreatePodSandBox';
/** Upstream's error when hostUsers: false meets a runtime without user-namespace support. */
export const userNamespacesUnsupportedMessage =
  "can't set `spec.hostUsers: false`, runtime does not support user namespaces";
/** A kubelet built without a UserNamespaceAllocator (upstream's userns manager) cannot map IDs. */
export const userNamespacesNotImplementedMessage =
  "can't set `spec.hostUsers: false`, this kubelet does not create user namespace ID mappings";

/**
 * Upstream predicate: `supplementalGroupsPolicy: Strict` needs the runtime's
 * supplemental_groups_policy feature (CRI Status `features`, read when the kubelet starts);
 * unknown counts as missing, so the pod never runs with the image's groups merged in.
 */
export function supplementalGroupsPolicyAdmitHandler(
  features: () => RuntimeFeatures | undefined,
): PodAdmitHandler {
  return {
    admit({ pod }: PodAdmitAttributes): PodAdmitResult {
      if (pod.spec.securityContext?.supplementalGroupsPolicy !== 'Strict') return admitted;
      if (features()?.supplementalGroupsPolicy === true) return admitted;
      return {
        admit: false,
        reason: supplementalGroupsPolicyNotSupported,
        message: 'SupplementalGroupsPolicy=Strict is not supported in this node',
      };
    },
  };
}

/** Why a sandbox for `hostUsers: false` cannot be created here (the runtime's support decides the words). */
export function userNamespacesUnavailableMessage(features: RuntimeFeatures | undefined): string {
  return features?.userNamespaces === true
    ? userNamespacesNotImplementedMessage
    : userNamespacesUnsupportedMessage;
}

/**
 * Beyond upstream, only with the Kubelet's strictAdmission option. `hostUsers: false` needs user
 * namespaces in the default runtime handler (CRI Status
 * `runtime_handlers[].features.user_namespaces`) and a kubelet that allocates ID ranges
 * (`allocatesMappings`, upstream's userns manager). Upstream fails the sandbox creation (event
 * FailedCreatePodSandBox) and retries, leaving the pod Pending, which is also the default here;
 * the strict mode refuses the pod at admission with that reason and message, so it ends Failed
 * instead of waiting.
 */
export function userNamespacesAdmitHandler(
  features: () => RuntimeFeatures | undefined,
  allocatesMappings = false,
): PodAdmitHandler {
  return {
    admit({ pod }: PodAdmitAttributes): PodAdmitResult {
      if (pod.spec.hostUsers !== false) return admitted;
      if (allocatesMappings && features()?.userNamespaces === true) return admitted;
      return {
        admit: false,
        reason: failedCreatePodSandBox,
        message: userNamespacesUnavailableMessage(features()),
      };
    },
  };
}
