import type { KubeletConfiguration } from '../config/kubelet-configuration';
import type { PodRuntime } from '../cri/pod-runtime';
import { StartLimiter } from '../cri/start-limiter';

/**
 * How many image pulls may run at once, as upstream's image puller decides: one at a time when
 * serializeImagePulls, otherwise maxParallelImagePulls, or no limit when that is unset.
 */
export function imagePullConcurrency(
  config: Pick<KubeletConfiguration, 'serializeImagePulls' | 'maxParallelImagePulls'>,
): number {
  if (config.serializeImagePulls) return 1;
  return config.maxParallelImagePulls ?? Number.POSITIVE_INFINITY;
}

/** The runtime with its PullImage calls queued behind that many slots (FIFO). */
export function limitImagePulls(runtime: PodRuntime, concurrency: number): PodRuntime {
  if (concurrency === Number.POSITIVE_INFINITY) return runtime;
  const slots = new StartLimiter(concurrency);
  const limited = Object.create(runtime) as PodRuntime;
  limited.pullImage = (image, auth, sandboxConfig) =>
    slots.run('container', () => runtime.pullImage(image, auth, sandboxConfig));
  return limited;
}
