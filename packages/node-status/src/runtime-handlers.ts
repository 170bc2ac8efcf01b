/** One runtime handler (a RuntimeClass's CRI handler; '' the default) and what it supports. */
export interface RuntimeHandlerInfo {
  name: string;
  recursiveReadOnlyMounts: boolean;
  userNamespaces: boolean;
}

/**
 * What the runtime's CRI Status reply says it supports: its handlers, in the order it lists them,
 * and `supplementalGroupsPolicy` from its `features`, undefined when it sent no `features`
 * (containerd 1.6/1.7, which send no handlers either).
 */
export interface RuntimeStatusFeatures {
  handlers: RuntimeHandlerInfo[];
  supplementalGroupsPolicy?: boolean;
}

/** core/v1 NodeRuntimeHandler as the kubelet sends it: both feature flags, false ones too. */
export interface NodeRuntimeHandlerWire {
  name: string;
  features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean };
}

/** The CRI StatusResponse fields read here (so this package needs no CRI client). */
export interface CriStatusFeatures {
  runtimeHandlers: ReadonlyArray<{
    name: string;
    features: { recursiveReadOnlyMounts: boolean; userNamespaces: boolean } | null;
  }>;
  features: { supplementalGroupsPolicy: boolean } | null;
}

/**
 * Upstream toKubeRuntimeStatus: a handler without `features` supports neither feature; a reply
 * without `features` leaves the node's status.features out.
 */
export function runtimeStatusFromCri(response: CriStatusFeatures): RuntimeStatusFeatures {
  return {
    handlers: response.runtimeHandlers.map((handler) => ({
      name: handler.name,
      recursiveReadOnlyMounts: handler.features?.recursiveReadOnlyMounts === true,
      userNamespaces: handler.features?.userNamespaces === true,
    })),
    ...(response.features ? { supplementalGroupsPolicy: response.features.supplementalGroupsPolicy } : {}),
  };
}

/**
 * Upstream's RuntimeHandlers and NodeFeatures setters: `status.runtimeHandlers` (left out when
 * the runtime lists none: the field is omitempty) and `status.features` (only when the runtime
 * sent `features`). Their gates (RecursiveReadOnlyMounts, SupplementalGroupsPolicy) are GA and
 * locked on in v1.36, so both setters always run.
 */
export function runtimeStatusFields(runtime: RuntimeStatusFeatures | undefined): {
  runtimeHandlers?: NodeRuntimeHandlerWire[];
  features?: { supplementalGroupsPolicy: boolean };
} {
  if (!runtime) return {};
  return {
    ...(runtime.handlers.length > 0
      ? {
          runtimeHandlers: runtime.handlers.map((handler) => ({
            name: handler.name,
            features: {
              recursiveReadOnlyMounts: handler.recursiveReadOnlyMounts,
              userNamespaces: handler.userNamespaces,
            },
          })),
        }
      : {}),
    ...(runtime.supplementalGroupsPolicy !== undefined
      ? { features: { supplementalGroupsPolicy: runtime.supplementalGroupsPolicy } }
      : {}),
  };
}
