// @nodeagent/kubelet/metrics: Prometheus metrics: the kubelet registry, process metrics and the cadvisor/resource/prober
// collectors.
export { collectProcessMetrics, createKubeletMetrics, type KubeletMetrics } from '../metrics';
export {
  type ContainerIdentity,
  cadvisorMetricDescs,
  cadvisorMetricFamilies,
  type IdentifyContainer,
} from '../metrics-collectors/cadvisor-metrics';
export { instrumentCriClient, runtimeOperationTypes } from '../cri/instrumented-cri';
export { recordProbeRun } from '../metrics-collectors/prober-metrics';
export { resourceMetricFamilies } from '../metrics-collectors/resource-metrics';
