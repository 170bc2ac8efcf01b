/**
 * A translated PV's node affinity: the Kubernetes zone (and beta region) keys of an in-tree PV
 * renamed to its CSI driver's topology key, or the zone taken from the PV's labels when its
 * affinity names none (upstream plugins/in_tree_volume.go). Every function here changes the PV it
 * is given: callers pass their copy.
 */
import { compareGoStrings } from './go-format';
import type { InTreePersistentVolume, NodeSelectorTerm, VolumeNodeAffinity } from './in-tree-sources';

export const LABEL_TOPOLOGY_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_TOPOLOGY_REGION = 'topology.kubernetes.io/region';
export const LABEL_BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone';
export const LABEL_BETA_REGION = 'failure-domain.beta.kubernetes.io/region';

/** What separates the zones of a multi-zone (regional) volume in its zone label. */
export const MULTI_ZONE_DELIMITER = '__';

/** The zone and region label keys a PV uses: the GA pair, or the beta pair of older clusters. */
export interface TopologyLabelKeys {
  zone: string;
  region: string;
}

const GA_KEYS: TopologyLabelKeys = { zone: LABEL_TOPOLOGY_ZONE, region: LABEL_TOPOLOGY_REGION };
const BETA_KEYS: TopologyLabelKeys = { zone: LABEL_BETA_ZONE, region: LABEL_BETA_REGION };

// unicode.IsSpace, which strings.TrimSpace trims (JavaScript's trim() differs on U+0085 and U+FEFF).
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_SURROUNDING_SPACE = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

function requiredTerms(pv: InTreePersistentVolume): NodeSelectorTerm[] {
  return pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
}

/** The PV's label `key`, or undefined when the label is not there (an empty one is there). */
export function pvLabel(pv: InTreePersistentVolume, key: string): string | undefined {
  const labels = pv.metadata?.labels;
  return labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** Whether a term of the affinity's required selector has an expression on `key` (TopologyKeyExist). */
export function topologyKeyExists(key: string, affinity: VolumeNodeAffinity | undefined): boolean {
  const terms = affinity?.required?.nodeSelectorTerms ?? [];
  return terms.some((term) => (term.matchExpressions ?? []).some((requirement) => requirement.key === key));
}

/** Every value the required terms give `key`, once each, sorted (getTopologyValues). */
export function topologyValues(pv: InTreePersistentVolume, key: string): string[] {
  const values = new Set<string>();
  for (const term of requiredTerms(pv))
    for (const requirement of term.matchExpressions ?? [])
      if (requirement.key === key) for (const value of requirement.values ?? []) values.add(value);
  return [...values].sort(compareGoStrings);
}

/** Renames `oldKey` to `newKey` in every required term, merging nothing (replaceTopology). */
export function replaceTopology(pv: InTreePersistentVolume, oldKey: string, newKey: string): void {
  for (const term of requiredTerms(pv))
    for (const requirement of term.matchExpressions ?? [])
      if (requirement.key === oldKey) requirement.key = newKey;
}

/**
 * Appends `key In zones` (trimmed, blank ones dropped, sorted, once each) to every required term,
 * making a term when there is none (addTopology). Returns upstream's error, changing nothing, when
 * no zone is left; its callers ignore it.
 */
export function addTopology(
  pv: InTreePersistentVolume,
  key: string,
  zones: readonly string[],
): Error | undefined {
  const kept = new Set(
    zones.map((zone) => zone.replace(GO_SURROUNDING_SPACE, '')).filter((zone) => zone !== ''),
  );
  if (kept.size < 1) return new Error('there are no valid zones to add to pv');
  const values = [...kept].sort(compareGoStrings);
  pv.spec ??= {};
  pv.spec.nodeAffinity ??= {};
  pv.spec.nodeAffinity.required ??= { nodeSelectorTerms: [] };
  const required = pv.spec.nodeAffinity.required;
  if ((required.nodeSelectorTerms ?? []).length === 0) required.nodeSelectorTerms = [{}];
  for (const term of required.nodeSelectorTerms) {
    term.matchExpressions = [...(term.matchExpressions ?? []), { key, operator: 'In', values: [...values] }];
  }
  return undefined;
}

/**
 * The label keys the PV's topology uses (getTopologyLabel): GA or beta zone in its affinity first,
 * then in its labels; GA when neither names a zone.
 */
export function topologyLabelKeys(pv: InTreePersistentVolume): TopologyLabelKeys {
  const affinity = pv.spec?.nodeAffinity;
  if (topologyKeyExists(LABEL_TOPOLOGY_ZONE, affinity)) return GA_KEYS;
  if (topologyKeyExists(LABEL_BETA_ZONE, affinity)) return BETA_KEYS;
  if (pvLabel(pv, LABEL_TOPOLOGY_ZONE) !== undefined) return GA_KEYS;
  if (pvLabel(pv, LABEL_BETA_ZONE) !== undefined) return BETA_KEYS;
  return GA_KEYS;
}

/**
 * translateTopologyFromInTreeToCSI: the zone key of the affinity renamed to `csiTopologyKey`, or,
 * when the affinity has no zone values, the zones of the PV's zone label added under it; a beta
 * region key becomes the GA one, so nodes with only GA labels still match.
 */
export function translateZoneTopologyToCsi(pv: InTreePersistentVolume, csiTopologyKey: string): void {
  const keys = topologyLabelKeys(pv);
  if (topologyValues(pv, keys.zone).length > 0) {
    replaceTopology(pv, keys.zone, csiTopologyKey);
  } else {
    const label = pvLabel(pv, keys.zone);
    if (label !== undefined) addTopology(pv, csiTopologyKey, label.split(MULTI_ZONE_DELIMITER));
  }
  if (keys.region === LABEL_BETA_REGION && topologyValues(pv, keys.region).length > 0) {
    replaceTopology(pv, keys.region, LABEL_TOPOLOGY_REGION);
  }
}
