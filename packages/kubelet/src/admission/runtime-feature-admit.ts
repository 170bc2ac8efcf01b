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

/**
 * Upstream HandlerSupportsUserNamespaces for the pod's runtime handler: whether it creates user
 * namespaces, and the error it adds when the runtime lists handlers but not this one.
 */
function handlerSupport(
  handler: string,
  features: RuntimeFeatures | undefined,
): { supported: boolean; error?: string } {
  const handlers = features?.runtimeHandlers;
  // Not read, or a runtime before CRI v1.30 that lists none (containerd 1.6/1.7): the default
  // handler's flag is all there is. Upstream v1.36.3 on containerd 1.6.20 gave the bare message
  // (fidelity/pod-status-v1.36 in the repository, hostusers-false).
  if (handlers === undefined || handlers.length === 0)
    return { supported: handler === '' && features?.userNamespaces === true };
  const found = handlers.find((h) => h.name === handler);
  if (!found) return { supported: false, error: `the handler ${JSON.stringify(handler)} is not known` };
  return { supported: found.userNamespaces };
}

/**
 * Why a sandbox for `hostUsers: false` cannot be created with runtime handler `handler` ('' the
 * default; a RuntimeClass's otherwise), or undefined when it can. Upstream's userns manager
 * words (GetOrCreateUserNamespaceMappings): the default handler "runtime does not support user
 * namespaces", another `RuntimeClass handler "<name>" does not support user namespaces`, either
 * followed by ": <why>" when the handler list does not name it. Beyond upstream: a kubelet without
 * an ID allocator names that instead.
 */
export function userNamespacesRefusal(
  handler: string,
  features: RuntimeFeatures | undefined,
  allocatesMappings: boolean,
): string | undefined {
  const { supported, error } = handlerSupport(handler, features);
  if (supported) return allocatesMappings ? undefined : userNamespacesNotImplementedMessage;
  const message =
    handler === ''
      ? userNamespacesUnsupportedMessage
      : `can't set \`spec.hostUsers: false\`, RuntimeClass handler ${JSON.stringify(handler)} does not support user namespaces`;
  return error ? `${message}: ${error}` : message;
}

/**
 * Beyond upstream, only with the Kubelet's strictAdmission option. `hostUsers: false` (without a
 * runtimeClassName, whose handler only the sandbox creation checks) needs user namespaces in the
 * default runtime handler (CRI Status
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
      // A RuntimeClass's handler is looked up at sandbox creation, which refuses it then.
      if (pod.spec.hostUsers !== false || pod.spec.runtimeClassName) return admitted;
      const message = userNamespacesRefusal('', features(), allocatesMappings);
      if (message === undefined) return admitted;
      return { admit: false, reason: failedCreatePodSandBox, message };
    },
  };
}
