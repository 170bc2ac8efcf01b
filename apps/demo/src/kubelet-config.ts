import { stringify } from 'yaml';

export interface DemoKubeletSettings {
  /** Where the kubelet writes pod logs (under the state dir, not the host's /var/log/pods). */
  podLogsDir: string;
  /** FlexVolume's driver directory, which the kubelet makes at start (under the state dir, not the host's /usr/libexec). */
  volumePluginDir: string;
  /**
   * Whether the kubelet runs in the node's own network namespace. Without one (fake runtime,
   * no root) it shares the host's network and must not claim the host's ports.
   */
  ownNetns: boolean;
  /** nodeLeaseDurationSeconds; written only when it differs from upstream's default (40). */
  nodeLeaseDurationSeconds?: number;
}

/**
 * The KubeletConfiguration the demo gives nodeagent-kubelet (`--config`). Everything not set here
 * takes upstream's defaults; each field set says why the demo departs from them.
 */
export function demoKubeletConfiguration(settings: DemoKubeletSettings): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    podLogsDir: settings.podLogsDir,
    volumePluginDir: settings.volumePluginDir,
    ...(settings.ownNetns
      ? {
          // kubectl logs/exec reach this server from the in-process API server (through the
          // demo's relay), which presents no client certificate and has no SubjectAccessReview
          // API for the default Webhook mode. The port is reachable only inside the demo's own
          // network namespace (and the relay's socket in the root-only state dir).
          authentication: { anonymous: { enabled: true } },
          authorization: { mode: 'AlwaysAllow' },
        }
      : // On the host's network the kubelet must also leave the host's iptables alone (upstream's
        // default writes KUBE-FIREWALL and canary chains); in its own namespace it keeps them.
        { enableServer: false, healthzPort: 0, makeIPTablesUtilChains: false }),
    // failSwapOn defaults to true, as upstream: a kubelet refuses to start while any swap is
    // active. A developer laptop usually has swap on, and the demo node runs two small busybox
    // pods on it for a minute, so it runs alongside swap instead of refusing.
    failSwapOn: false,
    // failCgroupV1 defaults to true (upstream v1.35+): a kubelet refuses to start on a cgroup v1
    // host. The demo runs wherever it is started, cgroup v1 included.
    failCgroupV1: false,
    // No kubepods QoS hierarchy: the demo must leave the host's cgroups as it found them, and a
    // SIGKILLed run could not remove it. Pods land in containerd's own cgroups instead.
    cgroupsPerQOS: false,
    // Upstream's validation refuses enforceNodeAllocatable (default ["pods"]) without
    // cgroupsPerQOS: with no kubepods cgroup there is nothing to cap at allocatable.
    enforceNodeAllocatable: [],
    // A shortened lease (--node-lease-duration, for the scenarios' short grace periods): the
    // kubelet renews every quarter of it, so a live node keeps renewing within the grace period.
    ...(settings.nodeLeaseDurationSeconds !== undefined && settings.nodeLeaseDurationSeconds !== 40
      ? { nodeLeaseDurationSeconds: settings.nodeLeaseDurationSeconds }
      : {}),
  };
}

/** The configuration as the YAML file the kubelet reads. */
export function renderKubeletConfiguration(config: Record<string, unknown>): string {
  return stringify(config);
}
