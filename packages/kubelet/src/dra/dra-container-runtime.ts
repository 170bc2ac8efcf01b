import type { Container, Pod } from '../api/pod-types';
import { aroundCreateContainer } from '../cri/around-create-container';
import type { PodRuntime } from '../cri/pod-runtime';

/** What the wrapper asks for a container's CDI devices (the DraManager). */
export interface ContainerClaimDevices {
  containerCdiDevices(pod: Pod, container: Container): string[];
}

/** Every container of a pod by name, ephemeral ones included. */
function findContainer(pod: Pod, name: string): Container | undefined {
  return [
    ...(pod.spec.initContainers ?? []),
    ...pod.spec.containers,
    ...(pod.spec.ephemeralContainers ?? []),
  ].find((c) => c.name === name) as Container | undefined;
}

/**
 * The same runtime, except that CreateContainer carries the CDI devices of the ResourceClaims the
 * container uses (upstream generateContainerConfig with the DRA manager's GetResources: CRI
 * ContainerConfig.CDI_devices, field 17), after any a device plugin gave; a claim the kubelet has
 * not prepared fails the CreateContainer, as upstream.
 */
export function withContainerClaims<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  claims: ContainerClaimDevices,
  podOf: (uid: string) => Pod | undefined,
): T {
  return aroundCreateContainer(runtime, {
    prepare: ({ podUid, name, config }) => {
      const pod = podOf(podUid);
      const container = pod && findContainer(pod, name);
      const ids = pod && container ? claims.containerCdiDevices(pod, container) : [];
      if (ids.length === 0) return config;
      return { ...config, CDIDevices: [...(config.CDIDevices ?? []), ...ids.map((id) => ({ name: id }))] };
    },
  });
}
