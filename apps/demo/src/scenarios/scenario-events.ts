/**
 * What the scenarios observe, as typed events: the narration prints them, the tests assert them.
 * `atMs` is the time since the agent was stopped (negative: before, e.g. the baseline).
 */
export type ScenarioEvent = KubeletMissingEvent | KubeProxyMissingEvent | ScenarioProblem;

interface Timed {
  atMs: number;
}

export type KubeletMissingEvent = Timed &
  (
    | { type: 'workload-placed'; node: string; pods: string[] }
    | { type: 'kubelet-stopped'; node: string; pid: number }
    | { type: 'pods-still-running'; node: string; pods: string[] }
    | { type: 'container-killed'; node: string; pod: string; container: string; containerId: string }
    | { type: 'container-exited'; node: string; pod: string; container: string; containerId: string }
    | { type: 'lease-not-renewed'; node: string; lastRenewAtMs: number }
    | { type: 'node-not-ready'; node: string; status: string; reason: string; message: string }
    | { type: 'taints-added'; node: string; taints: string[] }
    | { type: 'new-pod-elsewhere'; pod: string; node: string }
    | { type: 'pod-deleted'; node: string; pod: string }
    | { type: 'deleted-pod-still-running'; node: string; pod: string; containers: string[] }
    | { type: 'pods-evicted'; node: string; pods: string[] }
    | { type: 'pods-recreated'; pods: { pod: string; node: string }[] }
    | { type: 'container-not-restarted'; node: string; pod: string; container: string; exitedForMs: number }
    | { type: 'kubelet-started'; node: string; pid: number }
    | { type: 'node-ready'; node: string }
    | { type: 'taints-removed'; node: string }
    | { type: 'deleted-pod-stopped'; node: string; pods: string[] }
    | { type: 'no-duplicates'; node: string; containers: number }
  );

export type KubeProxyMissingEvent = Timed &
  (
    | { type: 'baseline'; node: string; service: string; url: string; answeredBy: string[] }
    | { type: 'kube-proxy-stopped'; node: string; pid: number }
    | { type: 'existing-service-works'; node: string; service: string; answeredBy: string[] }
    | { type: 'service-created'; service: string; url: string }
    | { type: 'new-service-works-elsewhere'; service: string; nodes: string[] }
    | { type: 'new-service-fails-here'; node: string; service: string; attempts: number; error: string }
    | { type: 'moved-baseline'; service: string; url: string; pod: string; podIP: string; nodes: string[] }
    | {
        type: 'endpoint-moved';
        service: string;
        from: { pod: string; podIP: string };
        to: { pod: string; podIP: string; node: string };
      }
    | { type: 'moved-service-works-elsewhere'; service: string; pod: string; nodes: string[] }
    | {
        type: 'moved-service-fails-here';
        node: string;
        service: string;
        staleIP: string;
        attempts: number;
        error: string;
      }
    | { type: 'kube-proxy-started'; node: string; pid: number }
    | {
        type: 'repaired';
        node: string;
        services: string[];
        /** Per Service, the pod that answered. */
        answeredBy: string[];
        sinceRestartMs: number;
        /** kube-proxy's first completed sync (its last-sync metric), since the restart. */
        firstSyncSinceRestartMs: number;
        /** The Services answered requests sent while that first sync was still kube-proxy's last. */
        byFirstSync: boolean;
      }
  );

/** An effect that did not happen as expected (the scenario goes on; the run then fails). */
export type ScenarioProblem = Timed & { type: 'problem'; what: string };

export type ScenarioEventType = ScenarioEvent['type'];
