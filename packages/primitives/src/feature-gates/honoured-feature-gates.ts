import type { FeatureGateSpec } from './feature-gate-spec';

/**
 * The gates whose value the agents' code reads: the one list of them. Every other gate set away
 * from its default is warned about by name (the agent behaves as with the default).
 * - kubelet: ContainerCheckpoint (the checkpoints directory and the /checkpoint endpoint),
 *   CSIVolumeHealth (a CSI volume's VolumeCondition in the summary and
 *   kubelet_volume_stats_health_status_abnormal), EventedPLEG
 *   (CRI GetContainerEvents read, each event answered with a relist),
 *   KubeletEnsureSecretPulledImages (the image pull manager), KubeletCrashLoopBackOffMax and
 *   ReduceDefaultCrashLoopBackOffDecay (the container restart back-off), KubeletInUserNamespace (a kernel tunable
 *   the kubelet cannot write in a user namespace is logged and skipped), KubeletServiceAccountTokenForCredentialProviders
 *   (credential provider tokens), MemoryQoS (cgroup v2 memory.min / memory.low / memory.high),
 *   PLEGOnDemandRelist (a pod relisted, with its PLEG events, right after a successful sync),
 *   QOSReserved (qosReserved's memory limits on the burstable and besteffort QoS cgroups),
 *   ResourceHealthStatus (containers' allocatedResourcesStatus from the device plugins' and DRA
 *   drivers' health), DRAExtendedResource (the scheduler's extended-resource claim prepared by DRA),
 *   NodeDeclaredFeatures and the declared-feature gates
 *   (status.declaredFeatures, @nodeagent/node-status declared-features.ts).
 * - kube-proxy: none (NFTablesProxyMode is GA and locked to true).
 */
export const HONOURED_FEATURE_GATES = {
  kubelet: [
    'ContainerCheckpoint',
    'CSIVolumeHealth',
    'DRAExtendedResource',
    'EventedPLEG',
    'ExtendWebSocketsToKubelet',
    'InPlacePodLevelResourcesVerticalScaling',
    'InPlacePodVerticalScalingInitContainers',
    'KubeletEnsureSecretPulledImages',
    'KubeletCrashLoopBackOffMax',
    'KubeletInUserNamespace',
    'KubeletServiceAccountTokenForCredentialProviders',
    'MemoryQoS',
    'NodeDeclaredFeatures',
    'PLEGOnDemandRelist',
    'QOSReserved',
    'ReduceDefaultCrashLoopBackOffDecay',
    'ResourceHealthStatus',
    'ResourceHealthStatusMessage',
    'RestartAllContainersOnContainerExits',
  ],
  'kube-proxy': [],
} as const satisfies Record<string, readonly string[]>;

/**
 * The gates whose effective value differs from their default and whose behaviour `honoured`
 * does not include, sorted: what a "has no effect" warning must name. The special AllAlpha and
 * AllBeta gates are never named themselves (the gates they switch are).
 */
export function unimplementedGateChanges(
  enabled: ReadonlyMap<string, boolean>,
  table: ReadonlyMap<string, FeatureGateSpec>,
  honoured: readonly string[],
): string[] {
  const changed: string[] = [];
  for (const [gate, value] of enabled) {
    const spec = table.get(gate);
    if (!spec || spec.default === value || honoured.includes(gate)) continue;
    if (gate === 'AllAlpha' || gate === 'AllBeta') continue;
    changed.push(gate);
  }
  return changed.sort();
}
