import { Counter, type Registry } from 'prom-client';

/** Upstream's pod-resources endpoint metrics (pkg/kubelet/metrics), by server_api_version. */
export interface PodResourcesMetrics {
  requestsTotal: Counter<'server_api_version'>;
  requestsList: Counter<'server_api_version'>;
  requestsGetAllocatable: Counter<'server_api_version'>;
  requestsGet: Counter<'server_api_version'>;
  errorsGet: Counter<'server_api_version'>;
}

function counter(name: string, help: string, registers: Registry[]): Counter<'server_api_version'> {
  return new Counter({ name, help: `[ALPHA] ${help}`, labelNames: ['server_api_version'], registers });
}

/** The counters registered on `registry` (or on none). */
export function podResourcesMetrics(registry?: Registry): PodResourcesMetrics {
  const registers = registry ? [registry] : [];
  return {
    requestsTotal: counter(
      'kubelet_pod_resources_endpoint_requests_total',
      'Cumulative number of requests to the PodResource endpoint. Broken down by server api version.',
      registers,
    ),
    requestsList: counter(
      'kubelet_pod_resources_endpoint_requests_list',
      'Number of requests to the PodResource List endpoint. Broken down by server api version.',
      registers,
    ),
    requestsGetAllocatable: counter(
      'kubelet_pod_resources_endpoint_requests_get_allocatable',
      'Number of requests to the PodResource GetAllocatableResources endpoint. Broken down by server api version.',
      registers,
    ),
    requestsGet: counter(
      'kubelet_pod_resources_endpoint_requests_get',
      'Number of requests to the PodResource Get endpoint. Broken down by server api version.',
      registers,
    ),
    errorsGet: counter(
      'kubelet_pod_resources_endpoint_errors_get',
      'Number of requests to the PodResource Get endpoint which returned error. Broken down by server api version.',
      registers,
    ),
  };
}
