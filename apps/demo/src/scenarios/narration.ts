import type { ScenarioEvent } from './scenario-events';

/** "+12.3s" since the stop ("-0.4s" before it). */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  return `${sign}${(Math.abs(ms) / 1000).toFixed(1)}s`.padStart(8);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Observed before the agent is stopped: the starting point, not a time since the stop. */
const BEFORE_STOP = new Set<ScenarioEvent['type']>(['workload-placed', 'baseline', 'moved-baseline']);

/** One line per observed effect, for people; docs/reference/demo.md explains each. */
export function narrate(event: ScenarioEvent): string {
  const when = BEFORE_STOP.has(event.type) ? 'before'.padStart(8) : formatOffset(event.atMs);
  return `${when}  ${describe(event)}`;
}

function describe(e: ScenarioEvent): string {
  switch (e.type) {
    case 'workload-placed':
      return `workload Running; ${e.node} runs ${e.pods.join(', ')}`;
    case 'kubelet-stopped':
      return `kubelet on ${e.node} stopped (pid ${e.pid} gone)`;
    case 'container-killed':
      return `killed container ${e.container} of ${e.pod} (${e.containerId.slice(0, 12)}) on ${e.node}`;
    case 'container-exited':
      return `runtime on ${e.node}: ${e.pod}/${e.container} exited`;
    case 'lease-not-renewed':
      return `Lease kube-node-lease/${e.node} not renewed (last renewal at ${formatOffset(e.lastRenewAtMs).trim()})`;
    case 'node-not-ready':
      return `node ${e.node} Ready=${e.status} reason ${e.reason}: "${e.message}"`;
    case 'taints-added':
      return `node ${e.node} tainted ${e.taints.join(', ')}`;
    case 'pods-still-running':
      return `runtime on ${e.node}: still running ${e.pods.join(', ') || 'nothing'}`;
    case 'new-pod-elsewhere':
      return `new pod ${e.pod} scheduled onto ${e.node}`;
    case 'pod-deleted':
      return `deleted pod ${e.pod} through the API (it stays Terminating: no kubelet confirms)`;
    case 'deleted-pod-still-running':
      return `runtime on ${e.node}: deleted pod ${e.pod} still runs ${e.containers.join(', ') || 'nothing'}`;
    case 'pods-evicted':
      return `toleration over: ${e.pods.join(', ')} evicted from ${e.node}`;
    case 'pods-recreated':
      return `ReplicaSet recreated ${e.pods.map((p) => `${p.pod} on ${p.node}`).join(', ')} (Running)`;
    case 'container-not-restarted':
      return `runtime on ${e.node}: ${e.pod}/${e.container} still exited after ${seconds(e.exitedForMs)}, never restarted`;
    case 'kubelet-started':
      return `kubelet on ${e.node} started again (pid ${e.pid})`;
    case 'node-ready':
      return `node ${e.node} Ready=True`;
    case 'taints-removed':
      return `node ${e.node} unreachable taints removed`;
    case 'deleted-pod-stopped':
      return `runtime on ${e.node}: containers of ${e.pods.join(', ')} stopped`;
    case 'no-duplicates':
      return `runtime: no container runs twice (${e.containers} running on ${e.node})`;
    case 'baseline':
      return `${e.url} (Service ${e.service}) from ${e.node} answered by ${e.answeredBy.join(', ')}`;
    case 'kube-proxy-stopped':
      return `kube-proxy on ${e.node} stopped (pid ${e.pid} gone)`;
    case 'existing-service-works':
      return `Service ${e.service} from ${e.node} still works (rules in its kernel): ${e.answeredBy.join(', ')}`;
    case 'service-created':
      return `created Service ${e.service} ${e.url}`;
    case 'new-service-works-elsewhere':
      return `Service ${e.service} answers from ${e.nodes.join(', ')}`;
    case 'new-service-fails-here':
      return `Service ${e.service} fails from ${e.node} (${e.attempts} of ${e.attempts} requests: ${e.error})`;
    case 'kube-proxy-started':
      return `kube-proxy on ${e.node} started again (pid ${e.pid})`;
    case 'moved-baseline':
      return `${e.url} (Service ${e.service}) answered by its only pod ${e.pod} (${e.podIP}) from ${e.nodes.join(', ')}`;
    case 'endpoint-moved':
      return `deleted pod ${e.from.pod} (${e.from.podIP}); ReplicaSet replaced it with ${e.to.pod} (${e.to.podIP}) on ${e.to.node}`;
    case 'moved-service-works-elsewhere':
      return `Service ${e.service} answers from ${e.nodes.join(', ')} by ${e.pod}`;
    case 'moved-service-fails-here':
      return `Service ${e.service} fails from ${e.node}: stale rules send to ${e.staleIP} (${e.attempts} of ${e.attempts} requests: ${e.error})`;
    case 'repaired':
      return `Services ${e.services.join(', ')} answer from ${e.node} (${e.answeredBy.join(', ')}) ${seconds(e.sinceRestartMs)} after the restart: ${
        e.byFirstSync ? 'repaired by the first sync after restart' : 'first sync after restart'
      } (${e.firstSyncSinceRestartMs < 0 ? '-' : '+'}${seconds(Math.abs(e.firstSyncSinceRestartMs))})`;
    case 'problem':
      return `✘ ${e.what}`;
  }
}
