import type { KubeletConfiguration } from '../config/kubelet-configuration';
import type { PodRuntime } from '../cri/pod-runtime';
import { TokenBucket } from '../token-bucket';

/**
 * registryPullQPS and registryBurst as upstream's throttledImageService applies them: a token
 * bucket in front of the runtime's PullImage that does not wait — a pull that finds it empty
 * fails at once with upstream's "pull QPS exceeded", and the pod's image back-off takes over.
 * A QPS of 0 means no limit. It sits inside the pull slots (serializeImagePulls,
 * maxParallelImagePulls), as upstream's puller calls the throttled service.
 */
export function throttleImagePulls(
  runtime: PodRuntime,
  config: Pick<KubeletConfiguration, 'registryPullQPS' | 'registryBurst'>,
  now: () => number,
): PodRuntime {
  if (config.registryPullQPS === 0) return runtime;
  const bucket = new TokenBucket(config.registryPullQPS, config.registryBurst, now());
  const throttled = Object.create(runtime) as PodRuntime;
  throttled.pullImage = (image, auth, sandboxConfig) =>
    bucket.tryTake(now())
      ? runtime.pullImage(image, auth, sandboxConfig)
      : Promise.reject(new Error('pull QPS exceeded'));
  return throttled;
}
