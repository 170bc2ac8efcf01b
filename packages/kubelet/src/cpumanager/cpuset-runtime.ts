import { containerNameLabel, podUidLabel } from '../cri/labels';
import type { PodRuntime } from '../cri/pod-runtime';
import type { CpuManager } from './cpu-manager';

/**
 * The same runtime, except that CreateContainer carries the container's cpuset in
 * LinuxContainerResources.cpuset_cpus (upstream's PreCreateContainer: its exclusive CPUs, else
 * the shared pool; nothing under the none policy) and a created container is registered with
 * the CPU manager (upstream's PreStartContainer AddContainer). The pod and container are read
 * from the config's labels, which the kubelet sets on every container.
 */
export function withContainerCpusets<T extends Pick<PodRuntime, 'createContainer'>>(
  runtime: T,
  manager: CpuManager,
): T {
  return new Proxy(runtime, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (property !== 'createContainer') return typeof value === 'function' ? value.bind(target) : value;
      const create: PodRuntime['createContainer'] = async (sandboxId, config, sandboxConfig) => {
        const podUid = config.labels?.[podUidLabel] ?? '';
        const name = config.labels?.[containerNameLabel] ?? '';
        const cpus = manager.cpuset(podUid, name);
        const withCpus =
          cpus === ''
            ? config
            : {
                ...config,
                linux: { ...config.linux, resources: { ...config.linux?.resources, cpusetCpus: cpus } },
              };
        const id = await target.createContainer(sandboxId, withCpus, sandboxConfig);
        manager.addContainer(podUid, name, id);
        return id;
      };
      return create;
    },
  });
}
