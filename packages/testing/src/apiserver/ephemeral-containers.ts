import { invalid, type StatusCause } from './api-error';
import type { KubeObject } from './kube-object';

interface NamedContainer {
  name: string;
}

interface PodSpecView {
  containers?: NamedContainer[];
  initContainers?: NamedContainer[];
  ephemeralContainers?: NamedContainer[];
}

/**
 * The pods/ephemeralcontainers subresource (what `kubectl debug` patches): an update changes
 * spec.ephemeralContainers and nothing else, as kube-apiserver's ephemeral containers strategy.
 * Existing ones may be neither removed nor changed, and names must be unique across the pod
 * (ValidatePodEphemeralContainersUpdate); the generation is bumped like any spec change.
 */
export function ephemeralContainersUpdate(old: KubeObject, incoming: KubeObject): KubeObject {
  const oldSpec = (old.spec ?? {}) as PodSpecView;
  const wanted = ((incoming.spec ?? {}) as PodSpecView).ephemeralContainers ?? [];
  const causes: StatusCause[] = [];
  const byName = new Map(wanted.map((c) => [c.name, c]));
  for (const existing of oldSpec.ephemeralContainers ?? []) {
    const now = byName.get(existing.name);
    if (!now) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec.ephemeralContainers',
        message: `Forbidden: existing ephemeral containers "${existing.name}" may not be removed`,
      });
    } else if (JSON.stringify(now) !== JSON.stringify(existing)) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec.ephemeralContainers',
        message: `Forbidden: existing ephemeral containers "${existing.name}" may not be changed`,
      });
    }
  }
  const taken = new Set(
    [...(oldSpec.containers ?? []), ...(oldSpec.initContainers ?? [])].map((c) => c.name),
  );
  for (const [index, container] of wanted.entries()) {
    if (taken.has(container.name)) {
      causes.push({
        reason: 'FieldValueDuplicate',
        field: `spec.ephemeralContainers[${index}].name`,
        message: `Duplicate value: "${container.name}"`,
      });
    }
    taken.add(container.name);
  }
  if (causes.length > 0) throw invalid('Pod', '', String(old.metadata.name), causes);
  return {
    ...old,
    metadata: { ...old.metadata, generation: (old.metadata.generation ?? 1) + 1 },
    spec: { ...(old.spec as object), ephemeralContainers: wanted },
  };
}
