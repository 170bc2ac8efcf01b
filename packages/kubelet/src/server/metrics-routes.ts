import type { ServerResponse } from 'node:http';
import { findContainer } from '../cri/runtime-state';
import type { Kubelet } from '../kubelet';
import { cadvisorMetricFamilies, type IdentifyContainer } from '../metrics-collectors/cadvisor-metrics';
import { renderExposition, textContentType } from '../metrics-collectors/exposition-text';
import { resourceMetricFamilies } from '../metrics-collectors/resource-metrics';
import type { SummaryProvider } from '../stats/summary-provider';
import type { Summary } from '../stats/summary-types';

/**
 * The kubelet's metrics endpoints besides /metrics: /metrics/resource (metrics-server's source)
 * and /metrics/cadvisor (cAdvisor's container series) from the summary stats, and /metrics/probes
 * from the prober's own registry. Returns false for any other path (or the stats-based ones
 * without a stats provider).
 */
export async function serveMetricsRoute(
  path: string,
  kubelet: Kubelet,
  summary: SummaryProvider | undefined,
  response: ServerResponse,
  onScrapeError: (error: unknown) => void = () => undefined,
): Promise<boolean> {
  if ((path === '/metrics/resource' || path === '/metrics/cadvisor') && summary) {
    let stats: Summary | undefined;
    try {
      stats = await summary.summary();
    } catch (error) {
      onScrapeError(error);
    }
    const families =
      path === '/metrics/resource'
        ? resourceMetricFamilies(stats)
        : cadvisorMetricFamilies(stats, Date.now(), runtimeIdentity(kubelet));
    response.writeHead(200, { 'Content-Type': textContentType });
    response.end(renderExposition(families));
    return true;
  }
  if (path === '/metrics/probes') {
    const registry = kubelet.metrics.probesRegistry;
    response.writeHead(200, { 'Content-Type': registry.contentType });
    response.end(await registry.metrics());
    return true;
  }
  return false;
}

/** The newest instance of a container in the kubelet's runtime cache, as the summary reports it. */
function runtimeIdentity(kubelet: Kubelet): IdentifyContainer {
  return (pod, name) => {
    const status = kubelet.runtimeStatus(pod.uid);
    const container = status && findContainer(status, name);
    return container && { id: container.id, image: container.image };
  };
}
