/**
 * KEP-5328 node declared features: what a v1.36 kubelet lists in `status.declaredFeatures` so
 * the scheduler and admission can keep pods that need a newer node behaviour off older nodes.
 * Each feature is declared while the feature gate of the same name is on; the whole list is
 * sent only while the NodeDeclaredFeatures gate is on. The names and their default-on state are
 * what the upstream v1.36.3 kubelet declared with default gates (fidelity/pod-status-v1.36/
 * node.upstream.yaml).
 */
export const DECLARED_FEATURES_V136: readonly string[] = [
  'ExtendWebSocketsToKubelet',
  'InPlacePodLevelResourcesVerticalScaling',
  'InPlacePodVerticalScalingInitContainers',
  'RestartAllContainersOnContainerExits',
];

/** The gate that switches the whole `status.declaredFeatures` list (on by default in v1.36). */
export const NODE_DECLARED_FEATURES_GATE = 'NodeDeclaredFeatures';

/**
 * The declared features for these feature gates (KubeletConfiguration featureGates: a gate left
 * out keeps its v1.36 default, on for every declared feature), sorted as upstream sends them.
 * Empty when NodeDeclaredFeatures is off: the field is then left out of the status.
 */
export function declaredFeatures(featureGates: Readonly<Record<string, boolean>> = {}): string[] {
  if (featureGates[NODE_DECLARED_FEATURES_GATE] === false) return [];
  return DECLARED_FEATURES_V136.filter((name) => featureGates[name] !== false).sort();
}
