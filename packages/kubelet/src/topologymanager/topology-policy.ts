import { filterProvidersHints, HintMerger } from './hint-merger';
import type { NumaInfo } from './numa-info';
import type { ResourceHints, TopologyHint } from './topology-hint';
import type { TopologyPolicyOptions } from './topology-policy-options';

/** topologyManagerPolicy values other than none (upstream's policy names). */
export type AligningPolicyName = 'best-effort' | 'restricted' | 'single-numa-node';

/**
 * Upstream filterSingleNumaHints: only preferred hints of one node (or of no preference) stay,
 * so a resource that can only be spread over nodes is left with no hint at all.
 */
function singleNumaHints(lists: readonly TopologyHint[][]): TopologyHint[][] {
  return lists.map((list) =>
    list.filter((hint) => hint.preferred && (hint.affinity === null || hint.affinity.count === 1)),
  );
}

/**
 * Upstream's best-effort, restricted and single-numa-node policies: Merge the providers' hints
 * into the best one and say whether the pod (or container) may be admitted with it.
 * best-effort always admits; restricted and single-numa-node only a preferred hint.
 * single-numa-node merges only single-node hints, and reports an all-nodes result as no affinity.
 */
export class TopologyPolicy {
  constructor(
    readonly name: AligningPolicyName,
    private readonly numaInfo: NumaInfo,
    private readonly options: TopologyPolicyOptions,
  ) {}

  /** Upstream's policy Merge: the best hint and whether it can be admitted. */
  merge(providersHints: readonly ResourceHints[]): { hint: TopologyHint; admit: boolean } {
    let lists = filterProvidersHints(providersHints);
    if (this.name === 'single-numa-node') lists = singleNumaHints(lists);
    // Upstream never ranks single-numa-node hints by distance: they all have one node.
    const preferClosest = this.name !== 'single-numa-node' && this.options.preferClosestNuma;
    let hint = new HintMerger(this.numaInfo, lists, preferClosest).merge();
    if (this.name === 'single-numa-node' && hint.affinity?.equals(this.numaInfo.defaultAffinity()))
      hint = { affinity: null, preferred: hint.preferred };
    return { hint, admit: this.name === 'best-effort' || hint.preferred };
  }
}
