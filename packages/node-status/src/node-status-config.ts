import type { V1Taint } from '@kubernetes/client-node';
import { KUBERNETES_VERSION, parseDuration } from '@nodeagent/primitives';
import { declaredFeatures } from './declared-features';
import { InvalidConfigError } from './errors';

/** The KubeletConfiguration fields (and flags) node status reporting needs, with upstream names. */
export interface NodeStatusConfig {
  nodeName: string;
  /** Value of the kubernetes.io/hostname label and the Hostname address (default: nodeName). */
  hostname?: string;
  /** InternalIP addresses to report (the --node-ip flag); empty means "detect from interfaces". */
  nodeIPs?: string[];
  nodeLabels?: Record<string, string>;
  registerWithTaints?: V1Taint[];
  /** false registers the Node unschedulable. */
  registerSchedulable?: boolean;
  maxPods?: number;
  podsPerCore?: number;
  kubeReserved?: Record<string, string>;
  systemReserved?: Record<string, string>;
  evictionHard?: Record<string, string>;
  /** How often status is computed and sent if changed (default "10s"). */
  nodeStatusUpdateFrequency?: string | number;
  /** Longest time between status updates when nothing changed (default "5m"). */
  nodeStatusReportFrequency?: string | number;
  nodeLeaseDurationSeconds?: number;
  nodeStatusMaxImages?: number;
  /** Kubelet's serving port, reported as daemonEndpoints.kubeletEndpoint.Port. */
  port?: number;
  kubeletVersion?: string;
  /** KubeletConfiguration featureGates: which KEP-5328 declared features the status lists. */
  featureGates?: Record<string, boolean>;
  /** Kubelet root dir; its filesystem is the ephemeral-storage capacity. */
  rootDir?: string;
  /** KubeletConfiguration providerID: the Node's spec.providerID at registration. */
  providerID?: string;
  /** KubeletConfiguration localStorageCapacityIsolation (default true); false: no ephemeral-storage capacity. */
  localStorageCapacityIsolation?: boolean;
}

/** The config with every default filled in and durations in milliseconds. */
export interface ResolvedNodeStatusConfig {
  nodeName: string;
  hostname: string;
  nodeIPs: string[];
  nodeLabels: Record<string, string>;
  registerWithTaints: V1Taint[];
  registerSchedulable: boolean;
  maxPods: number;
  podsPerCore: number;
  kubeReserved: Record<string, string>;
  systemReserved: Record<string, string>;
  evictionHard: Record<string, string>;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  /** The kubelet renews every quarter of the lease duration (10 s for 40 s). */
  leaseRenewIntervalMs: number;
  nodeStatusMaxImages: number;
  port: number;
  kubeletVersion: string;
  /** status.declaredFeatures, sorted (empty: the field is left out). */
  declaredFeatures: string[];
  rootDir: string;
  /** "" when not set. */
  providerID: string;
  localStorageCapacityIsolation: boolean;
}

/** Upstream's default hard eviction thresholds (pkg/kubelet/apis/config/v1beta1 defaults). */
export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
};

/** The namespace node leases live in. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The config with every default filled in, validated (InvalidConfigError names the field). */
export function resolveNodeStatusConfig(config: NodeStatusConfig): ResolvedNodeStatusConfig {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(config.nodeName ?? '') || config.nodeName.length > 253) {
    throw new InvalidConfigError('nodeName', config.nodeName, 'must be a lowercase RFC 1123 subdomain');
  }
  const leaseSeconds = config.nodeLeaseDurationSeconds ?? 40;
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) {
    throw new InvalidConfigError('nodeLeaseDurationSeconds', leaseSeconds, 'must be a positive integer');
  }
  const maxPods = config.maxPods ?? 110;
  if (!Number.isInteger(maxPods) || maxPods < 0) {
    throw new InvalidConfigError('maxPods', maxPods, 'must be a non-negative integer');
  }
  const update = durationMs(config.nodeStatusUpdateFrequency ?? '10s', 'nodeStatusUpdateFrequency');
  const report = durationMs(config.nodeStatusReportFrequency ?? '5m', 'nodeStatusReportFrequency');
  if (update <= 0) throw new InvalidConfigError('nodeStatusUpdateFrequency', update, 'must be > 0');
  return {
    nodeName: config.nodeName,
    hostname: config.hostname ?? config.nodeName,
    nodeIPs: config.nodeIPs ?? [],
    nodeLabels: config.nodeLabels ?? {},
    registerWithTaints: config.registerWithTaints ?? [],
    registerSchedulable: config.registerSchedulable ?? true,
    maxPods,
    podsPerCore: config.podsPerCore ?? 0,
    kubeReserved: config.kubeReserved ?? {},
    systemReserved: config.systemReserved ?? {},
    evictionHard: config.evictionHard ?? { ...DEFAULT_EVICTION_HARD },
    nodeStatusUpdateFrequencyMs: update,
    nodeStatusReportFrequencyMs: Math.max(report, update),
    nodeLeaseDurationSeconds: leaseSeconds,
    leaseRenewIntervalMs: Math.round(leaseSeconds * 250),
    nodeStatusMaxImages: config.nodeStatusMaxImages ?? 50,
    port: config.port ?? 10250,
    kubeletVersion: config.kubeletVersion ?? KUBERNETES_VERSION,
    declaredFeatures: declaredFeatures(config.featureGates),
    rootDir: config.rootDir ?? '/var/lib/kubelet',
    providerID: config.providerID ?? '',
    localStorageCapacityIsolation: config.localStorageCapacityIsolation ?? true,
  };
}

/** A frequency as Go duration text, or already in milliseconds; negative makes no sense for either. */
function durationMs(value: string | number, field: string): number {
  const ms = typeof value === 'string' ? parseDuration(value, field) : value;
  if (!Number.isFinite(ms) || ms < 0) throw new InvalidConfigError(field, value, 'must be >= 0 ms');
  return ms;
}
