import { containerNameLabel, podUidLabel } from './labels';
import type { PodRuntime } from './pod-runtime';

/** A container's config as CreateContainer takes it. */
export type CreateContainerConfig = Parameters<PodRuntime['createContainer']>[1];

/** One CreateContainer call: the pod and container it makes (the kubelet's labels) and its config. */
export interface ContainerCreation {
  podUid: string;
  name: string;
  config: CreateContainerConfig;
}

/**
 * What a resource manager does around CreateContainer, as upstream's internal container
 * lifecycle does: PreCreateContainer changes the config the runtime gets, PreStartContainer
 * learns the created container's id.
 */
export interface CreateContainerStep {
  /** The config to create the container with (a rejection fails the CreateContainer). */
  prepare?(creation: ContainerCreation): CreateContainerConfig | Promise<CreateContainerConfig>;
  /** The container was created with this id. */
  created?(creation: ContainerCreation, containerId: string): void;
}

/**
 * The same runtime, except that each CreateContainer goes through `step`: its config prepared
 * first, the created id handed on after. Every other call passes through unchanged. The pod and
 * container are read from the config's labels, which the kubelet sets on every container.
 */
export function aroundCreateContainer<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  step: CreateContainerStep,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const creation = {
          podUid: config.labels?.[podUidLabel] ?? '',
          name: config.labels?.[containerNameLabel] ?? '',
          config,
        };
        const prepared = step.prepare ? await step.prepare(creation) : config;
        const id = await target.createContainer(sandboxId, prepared, sandboxConfig);
        step.created?.(creation, id);
        return id;
      };
      return create;
    },
  });
}
