import type { MessageInput, PodSandboxConfig } from '@nodeagent/cri-client/types';
import type { Pod } from '../api/pod-types';
import type { PodRuntime } from '../cri/pod-runtime';
import type { PodCgroupManager } from './pod-cgroup-manager';

/**
 * A PodRuntime that puts every pod in its pod cgroup: before a sandbox is created the pod cgroup
 * is created (with its limits) and named as the sandbox's cgroup_parent; the sandbox config
 * passed along with container creation carries the same parent. Pods the lookup does not know
 * keep whatever parent the config had. Every other call goes to the wrapped runtime unchanged.
 */
export function podCgroupRuntime(
  runtime: PodRuntime,
  cgroups: PodCgroupManager,
  podFor: (uid: string) => Pod | undefined,
): PodRuntime {
  const withParent = (config: MessageInput<PodSandboxConfig>, parent: string) => ({
    ...config,
    linux: { ...(config.linux ?? {}), cgroupParent: parent },
  });
  const lookUp = (config: MessageInput<PodSandboxConfig>) => podFor(config.metadata?.uid ?? '');
  // Inherit from the runtime so methods it has (optional ones included) stay reachable as they are.
  const wrapped = Object.create(runtime) as PodRuntime;
  wrapped.runPodSandbox = async (config, runtimeHandler) => {
    const pod = lookUp(config);
    if (!pod) return runtime.runPodSandbox(config, runtimeHandler);
    return runtime.runPodSandbox(withParent(config, await cgroups.ensurePod(pod)), runtimeHandler);
  };
  wrapped.createContainer = (sandboxId, config, sandboxConfig) => {
    const pod = lookUp(sandboxConfig);
    const sandbox = pod ? withParent(sandboxConfig, cgroups.cgroupParent(pod)) : sandboxConfig;
    return runtime.createContainer(sandboxId, config, sandbox);
  };
  return wrapped;
}
