// @nodeagent/kubelet/metrics: Prometheus metrics: the kubelet registry, process metrics and the cadvisor/resource/prober
// collectors.
export { collectProcessMetrics, createKubeletMetrics, type KubeletMetrics } from '../metrics';
export {
  type ContainerIdentity,
  cadvisorMetricDescs,
  cadvisorMetricFamilies,
  type IdentifyContainer,
} from './cadvisor-metrics';
export { instrumentCriClient, runtimeOperationTypes } from './instrumented-cri';
export { recordProbeRun } from './prober-metrics';
export { resourceMetricFamilies } from './resource-metrics';
