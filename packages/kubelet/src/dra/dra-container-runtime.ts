import type { Container, Pod } from '../api/pod-types';
import { containerNameLabel, podUidLabel } from '../cri/labels';
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
 * ContainerConfig.CDI_devices, field 17), after any a device plugin gave. The pod and container
 * are read from the config's labels; a claim the kubelet has not prepared fails the
 * CreateContainer, as upstream.
 */
export function withContainerClaims<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  claims: ContainerClaimDevices,
  podOf: (uid: string) => Pod | undefined,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const pod = podOf(config.labels?.[podUidLabel] ?? '');
        const container = pod && findContainer(pod, config.labels?.[containerNameLabel] ?? '');
        const ids = pod && container ? claims.containerCdiDevices(pod, container) : [];
        if (ids.length === 0) return target.createContainer(sandboxId, config, sandboxConfig);
        return target.createContainer(
          sandboxId,
          { ...config, CDIDevices: [...(config.CDIDevices ?? []), ...ids.map((name) => ({ name }))] },
          sandboxConfig,
        );
      };
      return create;
    },
  });
}
