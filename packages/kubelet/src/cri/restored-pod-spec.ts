import type { Container, ContainerPort, LifecycleHandler, Pod } from '../api/pod-types';
import {
  containerPortsAnnotation,
  containerPreStopHandlerAnnotation,
  containerTerminationMessagePathAnnotation,
  type PodIdentity,
  podDeletionGracePeriodAnnotation,
  podTerminationGracePeriodAnnotation,
} from './labels';

/** A container as the runtime lists it: its name and its annotations. */
export interface AnnotatedContainer {
  name: string;
  annotations: Readonly<Record<string, string>>;
}

/**
 * Upstream's restoreSpecsFromContainerLabels: the pod spec a container's annotations still carry
 * (its preStop hook, ports, termination message path, the pod's grace periods), for stopping the
 * containers of a pod the kubelet no longer has, e.g. one deleted while it was down. Only what
 * stopping a container reads is restored; an annotation that does not parse is left out.
 */
export function podFromContainerAnnotations(
  identity: PodIdentity,
  containers: readonly AnnotatedContainer[],
): Pod {
  const grace = firstInteger(containers, podTerminationGracePeriodAnnotation);
  const deletionGrace = firstInteger(containers, podDeletionGracePeriodAnnotation);
  return {
    metadata: {
      name: identity.name,
      namespace: identity.namespace,
      uid: identity.uid,
      ...(deletionGrace !== undefined ? { deletionGracePeriodSeconds: deletionGrace } : {}),
    },
    spec: {
      ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
      containers: containers.map(restoredContainer),
    },
  };
}

/** The first container's annotation `key` that parses as an integer. */
function firstInteger(containers: readonly AnnotatedContainer[], key: string): number | undefined {
  return containers
    .map((c) => Number.parseInt(c.annotations[key] ?? '', 10))
    .find((n) => Number.isInteger(n));
}

function restoredContainer({ name, annotations }: AnnotatedContainer): Container {
  const preStop = parsed<LifecycleHandler>(annotations[containerPreStopHandlerAnnotation]);
  const ports = parsed<ContainerPort[]>(annotations[containerPortsAnnotation]);
  const terminationMessagePath = annotations[containerTerminationMessagePathAnnotation];
  return {
    name,
    ...(preStop ? { lifecycle: { preStop } } : {}),
    ...(ports ? { ports } : {}),
    ...(terminationMessagePath ? { terminationMessagePath } : {}),
  };
}

function parsed<T>(json: string | undefined): T | undefined {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
