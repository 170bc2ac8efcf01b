import type { NumaInfo } from './numa-info';
import type { NumaMask } from './numa-mask';
import type { ResourceHints, TopologyHint } from './topology-hint';

/**
 * Upstream filterProvidersHints: one list of hints per resource of every provider. A provider
 * or resource without an opinion becomes "any node, preferred"; a resource whose list is empty
 * (nothing can satisfy it) becomes "any node, not preferred".
 */
export function filterProvidersHints(providersHints: readonly ResourceHints[]): TopologyHint[][] {
  const out: TopologyHint[][] = [];
  for (const hints of providersHints) {
    if (!hints || Object.keys(hints).length === 0) {
      out.push([{ affinity: null, preferred: true }]);
      continue;
    }
    for (const resourceHints of Object.values(hints)) {
      if (resourceHints === undefined) out.push([{ affinity: null, preferred: true }]);
      else if (resourceHints.length === 0) out.push([{ affinity: null, preferred: false }]);
      else out.push([...resourceHints]);
    }
  }
  return out;
}

/** Upstream mergePermutation: the nodes common to every hint (any-node hints count as all), preferred if all are. */
function mergePermutation(defaultAffinity: NumaMask, permutation: readonly TopologyHint[]): TopologyHint {
  const masks = permutation.map((hint) => hint.affinity ?? defaultAffinity);
  return {
    affinity: defaultAffinity.and(...masks),
    preferred: permutation.every((hint) => hint.preferred),
  };
}

/** Upstream iterateAllProviderTopologyHints: one hint from each resource's list, every combination. */
function everyPermutation(
  lists: readonly TopologyHint[][],
  visit: (permutation: TopologyHint[]) => void,
): void {
  const walk = (index: number, chosen: TopologyHint[]) => {
    if (index === lists.length) {
      visit(chosen);
      return;
    }
    for (const hint of lists[index] ?? []) walk(index + 1, [...chosen, hint]);
  };
  walk(0, []);
}

/** Upstream maxOfMinAffinityCounts: the largest, over resources, of each resource's narrowest hint size. */
function maxOfMinAffinityCounts(lists: readonly TopologyHint[][]): number {
  let max = 0;
  for (const list of lists) {
    let narrowest: NumaMask | undefined;
    for (const hint of list)
      if (hint.affinity && (!narrowest || hint.affinity.isNarrowerThan(narrowest))) narrowest = hint.affinity;
    if (narrowest && narrowest.count > max) max = narrowest.count;
  }
  return max;
}

/**
 * Upstream's HintMerger: every permutation of the resources' hints merged, the best kept.
 * A preferred merge beats a non-preferred one; between two preferred ones the narrower (or,
 * with prefer-closest-numa-nodes outside single-numa-node, the closer) wins; between two
 * non-preferred ones the merge nearest to, and not above, the largest narrowest hint size.
 */
export class HintMerger {
  private readonly bestNonPreferredCount: number;

  constructor(
    private readonly numaInfo: NumaInfo,
    private readonly hints: readonly TopologyHint[][],
    private readonly preferClosest: boolean,
  ) {
    this.bestNonPreferredCount = maxOfMinAffinityCounts(hints);
  }

  /** Upstream Merge: the best merged hint, or all nodes not preferred when no merge has any node. */
  merge(): TopologyHint {
    const defaultAffinity = this.numaInfo.defaultAffinity();
    let best: TopologyHint | undefined;
    everyPermutation(this.hints, (permutation) => {
      best = this.compare(best, mergePermutation(defaultAffinity, permutation));
    });
    return best ?? { affinity: defaultAffinity, preferred: false };
  }

  /** Upstream's CompareNUMAAffinityMasks: the current hint stays unless the candidate's mask ranks better. */
  private fitter(current: TopologyHint, candidate: TopologyHint): TopologyHint {
    const a = current.affinity as NumaMask;
    const b = candidate.affinity as NumaMask;
    if (b.equals(a)) return current;
    const best = this.preferClosest ? this.numaInfo.closest(a, b) : this.numaInfo.narrowest(a, b);
    return best.equals(a) ? current : candidate;
  }

  /** Upstream HintMerger.compare, case for case. */
  private compare(current: TopologyHint | undefined, candidate: TopologyHint): TopologyHint | undefined {
    const candidateCount = candidate.affinity?.count ?? 0;
    if (candidateCount === 0) return current;
    if (!current) return candidate;
    if (current.preferred !== candidate.preferred) return current.preferred ? current : candidate;
    if (current.preferred) return this.fitter(current, candidate);
    // Both non-preferred: creep towards the best non-preferred size without going over it.
    const target = this.bestNonPreferredCount;
    const currentCount = current.affinity?.count ?? 0;
    if (currentCount > target) return this.fitter(current, candidate);
    if (currentCount === target) return candidateCount === target ? this.fitter(current, candidate) : current;
    if (candidateCount > target) return current;
    if (candidateCount === target) return candidate;
    if (candidateCount > currentCount) return candidate;
    if (candidateCount < currentCount) return current;
    return this.fitter(current, candidate);
  }
}
