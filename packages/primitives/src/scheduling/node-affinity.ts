/**
 * Whether a node satisfies a pod's required node affinity: its `nodeSelector` and its
 * `requiredDuringSchedulingIgnoredDuringExecution` terms (upstream component-helpers'
 * GetRequiredNodeAffinity(pod).Match(node)), which both the scheduler and the kubelet's admission
 * apply.
 */

/** core/v1 NodeSelectorRequirement. */
export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** core/v1 NodeSelectorTerm. */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

/** The parts of a pod that constrain its node. */
export interface NodeAffinityPod {
  spec?: {
    nodeSelector?: Record<string, string>;
    affinity?: {
      nodeAffinity?: {
        requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
      };
    };
  };
}

/** The parts of a node the pod's affinity is matched against. */
export interface NodeAffinityNode {
  metadata?: { name?: string; labels?: Record<string, string> };
}

/** Go's strconv.ParseInt(s, 10, 64): a base-10 integer in int64's range, or undefined. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined;
}

/**
 * One label requirement against a label set (labels.Requirement.Matches); a requirement that
 * would not parse (In with no values, Gt with anything but one integer) matches nothing, as
 * upstream's lazily reported parse error makes its term fail.
 */
function requirementMatches(labels: Readonly<Record<string, string>>, r: NodeSelectorRequirement): boolean {
  const values = r.values ?? [];
  const has = Object.hasOwn(labels, r.key);
  const value = labels[r.key] ?? '';
  switch (r.operator) {
    case 'In':
      return values.length > 0 && has && values.includes(value);
    case 'NotIn':
      return values.length > 0 && (!has || !values.includes(value));
    case 'Exists':
      return values.length === 0 && has;
    case 'DoesNotExist':
      return values.length === 0 && !has;
    case 'Gt':
    case 'Lt': {
      const bound = values.length === 1 ? parseInt64(values[0] ?? '') : undefined;
      const actual = has ? parseInt64(value) : undefined;
      if (bound === undefined || actual === undefined) return false;
      return r.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** A term's fields: only `metadata.name`, with In or NotIn and one value (upstream's field selector). */
function fieldMatches(node: NodeAffinityNode, r: NodeSelectorRequirement): boolean {
  if (r.key !== 'metadata.name' || (r.values ?? []).length !== 1) return false;
  if (r.operator !== 'In' && r.operator !== 'NotIn') return false;
  return requirementMatches({ 'metadata.name': node.metadata?.name ?? '' }, r);
}

/** Terms are ORed, a term's requirements ANDed; a term with no requirement matches nothing. */
function termsMatch(terms: readonly NodeSelectorTerm[], node: NodeAffinityNode): boolean {
  const labels = node.metadata?.labels ?? {};
  return terms.some((term) => {
    const expressions = term.matchExpressions ?? [];
    const fields = term.matchFields ?? [];
    if (expressions.length === 0 && fields.length === 0) return false;
    return (
      expressions.every((r) => requirementMatches(labels, r)) && fields.every((r) => fieldMatches(node, r))
    );
  });
}

/**
 * Upstream's storagehelpers.CheckNodeAffinity test of a PersistentVolume's required node
 * affinity: the terms matched against a node that has these labels and no name (so a term on
 * matchFields never matches).
 */
export function nodeSelectorTermsMatchLabels(
  terms: readonly NodeSelectorTerm[],
  labels: Readonly<Record<string, string>>,
): boolean {
  return termsMatch(terms, { metadata: { labels: { ...labels } } });
}

/** Whether `node` satisfies `pod`'s nodeSelector and required node affinity terms. */
export function requiredNodeAffinityMatches(pod: NodeAffinityPod, node: NodeAffinityNode): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(pod.spec?.nodeSelector ?? {}))
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return terms === undefined || termsMatch(terms, node);
}
