// @nodeagent/kubelet/metrics: Prometheus metrics: the kubelet registry, process metrics and the cadvisor/resource/prober
// collectors.

export {
  instrumentCriClient,
  type RuntimeOperationMetrics,
  runtimeOperationTypes,
} from '../cri/instrumented-cri';
export { collectProcessMetrics, createKubeletMetrics, type KubeletMetrics } from '../metrics';
export {
  type ContainerIdentity,
  cadvisorMetricDescs,
  cadvisorMetricFamilies,
  type IdentifyContainer,
} from '../metrics-collectors/cadvisor-metrics';
export {
  type MetricDesc,
  type MetricFamily,
  renderExposition,
  type Sample,
  type Stability,
  textContentType,
} from '../metrics-collectors/exposition-text';
export { recordProbeRun } from '../metrics-collectors/prober-metrics';
export { resourceMetricFamilies } from '../metrics-collectors/resource-metrics';
