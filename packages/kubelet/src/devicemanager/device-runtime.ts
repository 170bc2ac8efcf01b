import { aroundCreateContainer } from '../cri/around-create-container';
import type { PodRuntime } from '../cri/pod-runtime';
import type { DeviceManager } from './device-manager';

/**
 * The same runtime, except that CreateContainer carries what the container's device plugins
 * answered (upstream GetResourceRunContainerOptions → generateContainerConfig): their envs
 * before the container's own, their mounts before the volumes', their device nodes, their
 * annotations under the kubelet's, and their CDI devices; PreStartContainer is called first for
 * plugins that ask for it. A plugin call that fails fails the CreateContainer.
 */
export function withContainerDevices<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: Pick<DeviceManager, 'runContainerOptions'>,
): T {
  return aroundCreateContainer(runtime, {
    prepare: async ({ podUid, name, config }) => {
      const devices = await manager.runContainerOptions(podUid, name);
      if (!devices) return config;
      return {
        ...config,
        envs: [...devices.envs, ...(config.envs ?? [])],
        mounts: [...devices.mounts, ...(config.mounts ?? [])],
        devices: [...(config.devices ?? []), ...devices.devices],
        annotations: { ...devices.annotations, ...config.annotations },
        CDIDevices: [...(config.CDIDevices ?? []), ...devices.cdiDevices],
      };
    },
  });
}
