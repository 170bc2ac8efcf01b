import {
  componentBaseMetricStability,
  type RestClientMetricSet,
  registerBuildInfo,
  registerRestClientMetrics,
} from '@nodeagent/primitives/component-base-metrics';
import { annotateRegistryHelp, type MetricStabilityTable } from '@nodeagent/primitives/metric-stability';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Upstream kubelet metric names (pkg/kubelet/metrics), registered on one registry. */
export interface KubeletMetrics {
  registry: Registry;
  podStartSLIDuration: Histogram<never>;
  podWorkerDuration: Histogram<'operation_type'>;
  plegRelistDuration: Histogram<never>;
  plegRelistInterval: Histogram<never>;
  /** One single-pod relist after a successful sync (upstream v1.36, PLEGOnDemandRelist). */
  plegPodRelistDuration: Histogram<never>;
  plegLastSeen: Gauge<never>;
  /** The host's cgroup version (1 or 2), set at start. */
  cgroupVersion: Gauge<never>;
  runningPods: Gauge<never>;
  runningContainers: Gauge<'container_state'>;
  startedPods: Counter<never>;
  startedPodsErrors: Counter<never>;
  /** Sandbox creations attempted for hostUsers: false pods, and those that failed. */
  startedUserNamespacedPods: Counter<never>;
  startedUserNamespacedPodsErrors: Counter<never>;
  startedContainers: Counter<'container_type'>;
  startedContainersErrors: Counter<'code' | 'container_type'>;
  restartedPods: Counter<'static'>;
  /** HTTPS httpGet lifecycle hooks answered in plaintext that then succeeded over HTTP. */
  lifecycleHandlerHttpFallbacks: Counter<never>;
  /** Pods refused, by upstream's reason label (admission/admission-rejections.ts). */
  admissionRejections: Counter<'reason'>;
  /**
   * Container terminations the status manager saw a container's state turn Terminated for, by
   * container_type (container, init_container, ephemeral_container), exit_code and reason
   * (upstream v1.36 kubelet_terminated_containers_total).
   */
  terminatedContainers: Counter<'container_type' | 'exit_code' | 'reason'>;
  /**
   * WebSocket exec/attach/portforward requests (stream-close or tunneling subprotocol) the
   * streaming endpoints received, by subresource (upstream v1.36
   * kubelet_websocket_streaming_requests_total).
   */
  websocketStreamingRequests: Counter<'subresource'>;
  /** From first seeing a pod to it running (upstream kubelet_pod_start_duration_seconds). */
  podStartDuration: Histogram<never>;
  /** CRI calls by upstream's operation_type (instrumented_services.go). */
  runtimeOperations: Counter<'operation_type'>;
  runtimeOperationsDuration: Histogram<'operation_type'>;
  runtimeOperationsErrors: Counter<'operation_type'>;
  /** /metrics/probes: the prober's own registry, as upstream serves it apart from /metrics. */
  probesRegistry: Registry;
  proberProbeTotal: Counter<'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid'>;
  proberProbeDuration: Histogram<'probe_type' | 'container' | 'pod' | 'namespace'>;
  /**
   * Where the kubelet's container stats come from, `provider` 1 (upstream v1.36
   * kubelet_metrics_provider): `cadvisor`, as upstream without the PodAndContainerStatsFromCRI
   * gate, since /metrics/cadvisor and the summary serve cAdvisor's shape here.
   */
  metricsProvider: Gauge<'provider'>;
  /**
   * The rest_client_* series of /metrics: connect them to the API client with the informer's
   * setRestClientMetrics so the kubelet's API requests count in them.
   */
  restClient: RestClientMetricSet;
}

/**
 * The component-base stability level of every metric the kubelet registers on its /metrics and
 * /metrics/probes registries (here and in eviction/housekeeping-metrics.ts,
 * images/credential-provider/credential-provider-metrics.ts, images/image-pull-manager-metrics.ts
 * and cri/cri-losing-support.ts), which upstream writes at the start of each HELP
 * (`# HELP kubelet_started_pods_total [ALPHA] Cumulative number of pods started`). From the
 * Kubernetes Metrics Reference v1.34 (kubernetes/website content/en/docs/reference/instrumentation/
 * metrics.md: every kubelet_* ALPHA, prober_probe_total BETA, prober_probe_duration_seconds ALPHA)
 * and the generated metrics-list diffs v1.34.0 → v1.35.0 (kubelet_imagemanager_* added, ALPHA) and
 * v1.35.0 → v1.36.0 (kubelet_terminated_containers_total, kubelet_websocket_streaming_requests_total,
 * kubelet_pleg_pod_relist_duration_seconds and kubelet_memory_qos_node_memory_{min,low}_bytes
 * added, ALPHA; none of these changed level).
 * None of them is deprecated in v1.36. process_* and nodejs_* (prom-client's default metrics, as
 * client_golang's raw process collector upstream) are not listed and keep a bare HELP.
 */
export const kubeletMetricStability: MetricStabilityTable = {
  ...componentBaseMetricStability,
  kubelet_admission_rejections_total: 'ALPHA',
  kubelet_cgroup_version: 'ALPHA',
  kubelet_credential_provider_config_info: 'ALPHA',
  kubelet_credential_provider_plugin_duration: 'ALPHA',
  kubelet_credential_provider_plugin_errors_total: 'ALPHA',
  kubelet_cri_losing_support: 'ALPHA',
  kubelet_evictions: 'ALPHA',
  kubelet_image_garbage_collected_total: 'ALPHA',
  kubelet_imagemanager_image_mustpull_checks_total: 'ALPHA',
  kubelet_imagemanager_ondisk_pulledrecords: 'ALPHA',
  kubelet_imagemanager_ondisk_pullintents: 'ALPHA',
  kubelet_lifecycle_handler_http_fallbacks_total: 'ALPHA',
  kubelet_memory_qos_node_memory_low_bytes: 'ALPHA',
  kubelet_memory_qos_node_memory_min_bytes: 'ALPHA',
  kubelet_metrics_provider: 'ALPHA',
  kubelet_pleg_last_seen_seconds: 'ALPHA',
  kubelet_pleg_pod_relist_duration_seconds: 'ALPHA',
  kubelet_pleg_relist_duration_seconds: 'ALPHA',
  kubelet_pleg_relist_interval_seconds: 'ALPHA',
  kubelet_pod_start_duration_seconds: 'ALPHA',
  kubelet_pod_start_sli_duration_seconds: 'ALPHA',
  kubelet_pod_worker_duration_seconds: 'ALPHA',
  kubelet_restarted_pods_total: 'ALPHA',
  kubelet_running_containers: 'ALPHA',
  kubelet_running_pods: 'ALPHA',
  kubelet_runtime_operations_duration_seconds: 'ALPHA',
  kubelet_runtime_operations_errors_total: 'ALPHA',
  kubelet_runtime_operations_total: 'ALPHA',
  kubelet_started_containers_errors_total: 'ALPHA',
  kubelet_started_containers_total: 'ALPHA',
  kubelet_started_pods_errors_total: 'ALPHA',
  kubelet_started_pods_total: 'ALPHA',
  kubelet_started_user_namespaced_pods_errors_total: 'ALPHA',
  kubelet_started_user_namespaced_pods_total: 'ALPHA',
  kubelet_terminated_containers_total: 'ALPHA',
  kubelet_volume_stats_available_bytes: 'ALPHA',
  kubelet_volume_stats_capacity_bytes: 'ALPHA',
  kubelet_volume_stats_inodes: 'ALPHA',
  kubelet_volume_stats_inodes_free: 'ALPHA',
  kubelet_volume_stats_inodes_used: 'ALPHA',
  kubelet_volume_stats_health_status_abnormal: 'ALPHA',
  kubelet_volume_stats_used_bytes: 'ALPHA',
  kubelet_websocket_streaming_requests_total: 'ALPHA',
  plugin_manager_total_plugins: 'ALPHA',
  prober_probe_duration_seconds: 'ALPHA',
  prober_probe_total: 'BETA',
};

const defBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const podStartSLIBuckets = [
  0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
  3600,
];

/** prometheus.ExponentialBuckets(.005, 2.5, 14): upstream's runtime operation buckets. */
const runtimeOperationBuckets = Array.from({ length: 14 }, (_, i) => 0.005 * 2.5 ** i);

/**
 * component-base's series on every binary's /metrics (kubernetes_build_info, rest_client_*) and
 * kubelet_metrics_provider, set once as upstream sets it at start.
 */
function componentAndProviderMetrics(
  registry: Registry,
): Pick<KubeletMetrics, 'metricsProvider' | 'restClient'> {
  registerBuildInfo(registry);
  const metricsProvider = new Gauge({
    name: 'kubelet_metrics_provider',
    help: "Metrics provider used by kubelet to collect container stats. Values can be 'cadvisor' and 'cri'",
    labelNames: ['provider'],
    registers: [registry],
  });
  metricsProvider.set({ provider: 'cadvisor' }, 1);
  return { metricsProvider, restClient: registerRestClientMetrics(registry) };
}

/**
 * Registers the kubelet's metrics (upstream names, buckets and labels) on `registry`, and the
 * prober's on `probesRegistry` (served apart at /metrics/probes), and returns them. Both
 * registries' text output then carries `kubeletMetricStability`'s levels in HELP, for these
 * metrics and those other parts of the kubelet register on them later. Registering twice on one
 * registry throws prom-client's duplicate-name error: pass fresh registries.
 */
export function createKubeletMetrics(
  registry: Registry = new Registry(),
  probesRegistry: Registry = new Registry(),
): KubeletMetrics {
  annotateRegistryHelp(registry, kubeletMetricStability);
  annotateRegistryHelp(probesRegistry, kubeletMetricStability);
  const registers = [registry];
  return {
    registry,
    probesRegistry,
    ...componentAndProviderMetrics(registry),
    podStartSLIDuration: new Histogram({
      name: 'kubelet_pod_start_sli_duration_seconds',
      help: 'Duration in seconds to start a pod, excluding time to pull images and run init containers, measured from pod creation timestamp to when all its containers are reported as started and observed via watch',
      buckets: podStartSLIBuckets,
      registers,
    }),
    podWorkerDuration: new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
      labelNames: ['operation_type'],
      buckets: defBuckets,
      registers,
    }),
    plegRelistDuration: new Histogram({
      name: 'kubelet_pleg_relist_duration_seconds',
      help: 'Duration in seconds for relisting pods in PLEG.',
      buckets: defBuckets,
      registers,
    }),
    plegRelistInterval: new Histogram({
      name: 'kubelet_pleg_relist_interval_seconds',
      help: 'Interval in seconds between relisting in PLEG.',
      buckets: defBuckets,
      registers,
    }),
    plegPodRelistDuration: new Histogram({
      name: 'kubelet_pleg_pod_relist_duration_seconds',
      help: 'Duration in seconds for relisting a single pod in PLEG.',
      buckets: defBuckets,
      registers,
    }),
    plegLastSeen: new Gauge({
      name: 'kubelet_pleg_last_seen_seconds',
      help: 'Timestamp in seconds when PLEG was last seen active.',
      registers,
    }),
    cgroupVersion: new Gauge({
      name: 'kubelet_cgroup_version',
      help: 'cgroup version on the hosts.',
      registers,
    }),
    runningPods: new Gauge({
      name: 'kubelet_running_pods',
      help: 'Number of pods that have a running pod sandbox',
      registers,
    }),
    runningContainers: new Gauge({
      name: 'kubelet_running_containers',
      help: 'Number of containers currently running',
      labelNames: ['container_state'],
      registers,
    }),
    startedPods: new Counter({
      name: 'kubelet_started_pods_total',
      help: 'Cumulative number of pods started',
      registers,
    }),
    startedPodsErrors: new Counter({
      name: 'kubelet_started_pods_errors_total',
      help: 'Cumulative number of errors when starting pods',
      registers,
    }),
    startedUserNamespacedPods: new Counter({
      name: 'kubelet_started_user_namespaced_pods_total',
      help: 'Cumulative number of pods with user namespaces started. This metric will only be collected on Linux.',
      registers,
    }),
    startedUserNamespacedPodsErrors: new Counter({
      name: 'kubelet_started_user_namespaced_pods_errors_total',
      help: 'Cumulative number of errors when starting pods with user namespaces. This metric will only be collected on Linux.',
      registers,
    }),
    startedContainers: new Counter({
      name: 'kubelet_started_containers_total',
      help: 'Cumulative number of containers started',
      labelNames: ['container_type'],
      registers,
    }),
    startedContainersErrors: new Counter({
      name: 'kubelet_started_containers_errors_total',
      help: 'Cumulative number of errors when starting containers',
      labelNames: ['code', 'container_type'],
      registers,
    }),
    lifecycleHandlerHttpFallbacks: new Counter({
      name: 'kubelet_lifecycle_handler_http_fallbacks_total',
      help: 'The number of times lifecycle handlers successfully fell back to http from https.',
      registers,
    }),
    admissionRejections: new Counter({
      name: 'kubelet_admission_rejections_total',
      // Upstream's text, without the "of".
      help: 'Cumulative number pod admission rejections by the Kubelet.',
      labelNames: ['reason'],
      registers,
    }),
    restartedPods: new Counter({
      name: 'kubelet_restarted_pods_total',
      help: 'Number of pods that have been restarted because they were deleted and recreated with the same UID while the kubelet was watching them (common for static pods, extremely uncommon for API pods)',
      labelNames: ['static'],
      registers,
    }),
    terminatedContainers: new Counter({
      name: 'kubelet_terminated_containers_total',
      help: 'Cumulative number of container terminations.',
      labelNames: ['container_type', 'exit_code', 'reason'],
      registers,
    }),
    websocketStreamingRequests: new Counter({
      name: 'kubelet_websocket_streaming_requests_total',
      help: 'Total number of WebSocket streaming requests (exec/attach/portforward) received by the kubelet.',
      labelNames: ['subresource'],
      registers,
    }),
    podStartDuration: new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      buckets: podStartSLIBuckets,
      registers,
    }),
    ...runtimeOperationMetrics(registry),
    ...proberMetrics(probesRegistry),
  };
}

/** The CRI call counters and histogram (instrumentCriClient records them), on the kubelet registry. */
function runtimeOperationMetrics(
  registry: Registry,
): Pick<KubeletMetrics, 'runtimeOperations' | 'runtimeOperationsDuration' | 'runtimeOperationsErrors'> {
  const registers = [registry];
  return {
    runtimeOperations: new Counter({
      name: 'kubelet_runtime_operations_total',
      help: 'Cumulative number of runtime operations by operation type.',
      labelNames: ['operation_type'],
      registers,
    }),
    runtimeOperationsDuration: new Histogram({
      name: 'kubelet_runtime_operations_duration_seconds',
      help: 'Duration in seconds of runtime operations. Broken down by operation type.',
      labelNames: ['operation_type'],
      buckets: runtimeOperationBuckets,
      registers,
    }),
    runtimeOperationsErrors: new Counter({
      name: 'kubelet_runtime_operations_errors_total',
      help: 'Cumulative number of runtime operation errors by operation type.',
      labelNames: ['operation_type'],
      registers,
    }),
  };
}

/** The prober's two metrics, on the registry /metrics/probes serves. */
function proberMetrics(
  probesRegistry: Registry,
): Pick<KubeletMetrics, 'proberProbeTotal' | 'proberProbeDuration'> {
  const registers = [probesRegistry];
  return {
    proberProbeTotal: new Counter({
      name: 'prober_probe_total',
      help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers,
    }),
    proberProbeDuration: new Histogram({
      name: 'prober_probe_duration_seconds',
      help: 'Duration in seconds for a probe response.',
      labelNames: ['probe_type', 'container', 'pod', 'namespace'],
      buckets: defBuckets,
      registers,
    }),
  };
}

/**
 * How often the event-loop lag series (nodejs_eventloop_lag_*) sample the loop, in ms. prom-client's
 * default, 10 ms, is a timer that woke the idle kubelet 100 times a second (strace: 114 epoll
 * waits a second, nearly all of them that timer), a good part of its idle CPU; once a second
 * still shows a loop that stalls.
 */
const EVENT_LOOP_SAMPLE_MS = 1000;

/**
 * The process metrics upstream's /metrics carries (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_start_time_seconds, process_open_fds…): prom-client's
 * default metrics, which add Node.js runtime series (nodejs_*) beside them.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}
