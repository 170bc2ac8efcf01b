/** A RuntimeClass as the kubelet reads it (node.k8s.io/v1): only its CRI handler matters here. */
export interface RuntimeClassObject {
  handler: string;
}

/** Upstream's NotFound text for a RuntimeClass (apierrors.NewNotFound on node.k8s.io runtimeclasses). */
export function runtimeClassNotFoundMessage(name: string): string {
  return `runtimeclasses.node.k8s.io ${JSON.stringify(name)} not found`;
}

/**
 * Upstream runtimeclass.Manager.LookupRuntimeHandler over a getter (an informer's store or a GET):
 * no RuntimeClass name means the runtime's default handler ''; a name that is not found fails the
 * sandbox with upstream's NotFound error, so the pod waits and is retried until the class exists.
 */
export function runtimeClassHandlerLookup(
  get: (name: string) => Promise<RuntimeClassObject | undefined>,
): (runtimeClassName: string | undefined) => Promise<string> {
  return async (name) => {
    if (!name) return '';
    const runtimeClass = await get(name);
    if (!runtimeClass) throw new Error(runtimeClassNotFoundMessage(name));
    return runtimeClass.handler;
  };
}
