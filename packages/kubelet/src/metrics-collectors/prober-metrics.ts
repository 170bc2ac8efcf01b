import type { ProbeRunEvent } from '@nodeagent/probes';
import type { Pod } from '../api/pod-types';
import type { KubeletMetrics } from '../metrics';

/** Upstream's result label values (prober/worker.go). */
const resultLabel = { Success: 'successful', Warning: 'successful', Failure: 'failed' } as const;

/**
 * One probe run into /metrics/probes as upstream's probe worker records it: prober_probe_total by
 * result, prober_probe_duration_seconds for successful runs. A run whose prober itself failed
 * (result Unknown) is thrown away, as upstream throws away a probe that returned an error.
 */
export function recordProbeRun(
  metrics: Pick<KubeletMetrics, 'proberProbeTotal' | 'proberProbeDuration'>,
  pod: Pod | undefined,
  event: ProbeRunEvent,
): void {
  if (event.outcome.result === 'Unknown') return;
  const result = resultLabel[event.outcome.result];
  // Label names in client_golang's (sorted) output order.
  const container = event.containerName;
  const namespace = pod?.metadata.namespace ?? '';
  const name = pod?.metadata.name ?? '';
  metrics.proberProbeTotal.inc({
    container,
    namespace,
    pod: name,
    pod_uid: event.podUID,
    probe_type: event.probeType,
    result,
  });
  if (result === 'successful')
    metrics.proberProbeDuration.observe(
      { container, namespace, pod: name, probe_type: event.probeType },
      event.durationMs / 1000,
    );
}

/**
 * A removed pod's container no longer has probe series (upstream's worker deletes its
 * prober_probe_total and prober_probe_duration_seconds series when it exits), so the registry
 * does not grow with every pod the node ever ran.
 */
export function forgetProbeRuns(
  metrics: Pick<KubeletMetrics, 'proberProbeTotal' | 'proberProbeDuration'>,
  pod: Pod | undefined,
  podUID: string,
  container: string,
  probeTypes: readonly string[],
): void {
  const namespace = pod?.metadata.namespace ?? '';
  const name = pod?.metadata.name ?? '';
  for (const probe_type of probeTypes) {
    for (const result of ['successful', 'failed'])
      metrics.proberProbeTotal.remove({
        container,
        namespace,
        pod: name,
        pod_uid: podUID,
        probe_type,
        result,
      });
    metrics.proberProbeDuration.remove({ container, namespace, pod: name, probe_type });
  }
}
