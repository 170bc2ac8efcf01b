import type { Clock } from '@nodeagent/primitives';
import type { Pod, PodStatus } from '../api/pod-types';
import type { KubeletMetrics } from '../metrics';
import type { PodStartTimes } from './pod-state-store';

/**
 * Upstream's pod start metrics, from the status a sync generated: first seen → Running
 * (kubelet_pod_start_duration_seconds), and, once for each pod, creation → every container
 * running (kubelet_pod_start_sli_duration_seconds).
 */
export function observePodStart(
  times: PodStartTimes,
  metrics: KubeletMetrics,
  clock: Clock,
  pod: Pod,
  status: PodStatus,
): void {
  const uid = pod.metadata.uid ?? '';
  const firstSeen = times.firstSeen(uid);
  if (firstSeen !== undefined && status.phase === 'Running') {
    times.startRunning(uid);
    metrics.podStartDuration.observe(Math.max(0, clock.now() - firstSeen) / 1000);
  }
  if (status.phase !== 'Running') return;
  if (!(status.containerStatuses ?? []).every((c) => c.state.running)) return;
  if (!times.markStartObserved(uid)) return;
  const created = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : Number.NaN;
  if (Number.isFinite(created))
    metrics.podStartSLIDuration.observe(Math.max(0, clock.now() - created) / 1000);
}
