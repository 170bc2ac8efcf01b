import type { KubeletMetrics } from '../metrics';

/** CRI client methods → upstream's operation_type (kuberuntime/instrumented_services.go). */
export const runtimeOperationTypes: Readonly<Record<string, string>> = {
  version: 'version',
  status: 'status',
  createContainer: 'create_container',
  startContainer: 'start_container',
  stopContainer: 'stop_container',
  removeContainer: 'remove_container',
  listContainers: 'list_containers',
  containerStatus: 'container_status',
  updateContainerResources: 'update_container',
  updatePodSandboxResources: 'update_podsandbox_resources',
  reopenContainerLog: 'reopen_container_log',
  execSync: 'exec_sync',
  exec: 'exec',
  attach: 'attach',
  runPodSandbox: 'run_podsandbox',
  stopPodSandbox: 'stop_podsandbox',
  removePodSandbox: 'remove_podsandbox',
  podSandboxStatus: 'podsandbox_status',
  listPodSandbox: 'list_podsandbox',
  containerStats: 'container_stats',
  listContainerStats: 'list_container_stats',
  podSandboxStats: 'podsandbox_stats',
  listPodSandboxStats: 'list_podsandbox_stats',
  portForward: 'port_forward',
  updateRuntimeConfig: 'update_runtime_config',
  listImages: 'list_images',
  imageStatus: 'image_status',
  pullImage: 'pull_image',
  removeImage: 'remove_image',
  imageFsInfo: 'image_fs_info',
};

/** The three kubelet_runtime_operations_* metrics instrumentCriClient records into, e.g. from createKubeletMetrics. */
export type RuntimeOperationMetrics = Pick<
  KubeletMetrics,
  'runtimeOperations' | 'runtimeOperationsDuration' | 'runtimeOperationsErrors'
>;

/**
 * The CRI client with every RuntimeService/ImageService call counted and timed as upstream's
 * instrumented services do: kubelet_runtime_operations_total and _duration_seconds for each
 * call, kubelet_runtime_operations_errors_total for each failed one. Wrapped once where the
 * client is made, so the pod runtime, stats, log rotation and streaming all go through it.
 */
export function instrumentCriClient<T extends object>(
  client: T,
  metrics: RuntimeOperationMetrics,
  now: () => number = () => performance.now(),
): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const operation = typeof property === 'string' ? runtimeOperationTypes[property] : undefined;
      if (!operation) return value.bind(target);
      return async (...args: unknown[]) => {
        const started = now();
        const labels = { operation_type: operation };
        try {
          return await value.apply(target, args);
        } catch (error) {
          metrics.runtimeOperationsErrors.inc(labels);
          throw error;
        } finally {
          metrics.runtimeOperations.inc(labels);
          metrics.runtimeOperationsDuration.observe(labels, (now() - started) / 1000);
        }
      };
    },
  });
}
