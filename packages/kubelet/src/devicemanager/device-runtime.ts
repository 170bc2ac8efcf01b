import { containerNameLabel, podUidLabel } from '../cri/labels';
import type { PodRuntime } from '../cri/pod-runtime';
import type { DeviceManager } from './device-manager';

/**
 * The same runtime, except that CreateContainer carries what the container's device plugins
 * answered (upstream GetResourceRunContainerOptions → generateContainerConfig): their envs
 * before the container's own, their mounts before the volumes', their device nodes, their
 * annotations under the kubelet's, and their CDI devices; PreStartContainer is called first for
 * plugins that ask for it. The pod and container are read from the config's labels, which the
 * kubelet sets on every container. A plugin call that fails fails the CreateContainer.
 */
export function withContainerDevices<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: Pick<DeviceManager, 'runContainerOptions'>,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const podUid = config.labels?.[podUidLabel] ?? '';
        const name = config.labels?.[containerNameLabel] ?? '';
        const devices = await manager.runContainerOptions(podUid, name);
        if (!devices) return target.createContainer(sandboxId, config, sandboxConfig);
        return target.createContainer(
          sandboxId,
          {
            ...config,
            envs: [...devices.envs, ...(config.envs ?? [])],
            mounts: [...devices.mounts, ...(config.mounts ?? [])],
            devices: [...(config.devices ?? []), ...devices.devices],
            annotations: { ...devices.annotations, ...config.annotations },
            CDIDevices: [...(config.CDIDevices ?? []), ...devices.cdiDevices],
          },
          sandboxConfig,
        );
      };
      return create;
    },
  });
}
