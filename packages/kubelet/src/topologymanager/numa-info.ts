import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NumaMask } from './numa-mask';

/** One NUMA node as cAdvisor's machine info lists it: its id and its distances to every node. */
export interface NumaNode {
  id: number;
  /** The node's `distance` row, indexed by node id; undefined when the kernel gives none. */
  distances?: readonly number[];
}

/**
 * The NUMA nodes under `<sysfsRoot>/devices/system/node` with their `distance` rows. A machine
 * without that directory is one node 0 with no distances, as cAdvisor reports it.
 */
export function readNumaNodes(sysfsRoot = '/sys'): NumaNode[] {
  const dir = join(sysfsRoot, 'devices/system/node');
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /^node\d+$/.test(name));
  } catch {
    return [{ id: 0 }];
  }
  if (names.length === 0) return [{ id: 0 }];
  return names
    .map((name) => {
      const id = Number(name.slice(4));
      try {
        const row = readFileSync(join(dir, name, 'distance'), 'utf8')
          .trim()
          .split(/\s+/)
          .map(Number);
        return { id, distances: row };
      } catch {
        return { id };
      }
    })
    .sort((a, b) => a.id - b.id);
}

/**
 * Upstream's NUMAInfo: the machine's NUMA nodes, the default affinity (all of them) and the two
 * ways hints of equal preference are ranked: narrowest, or (prefer-closest-numa-nodes) the
 * lowest average distance among masks of the same size.
 */
export class NumaInfo {
  /** The node ids, ascending. */
  readonly nodes: readonly number[];
  private readonly distances: ReadonlyMap<number, readonly number[]>;

  /**
   * Upstream NewNUMAInfo: with prefer-closest-numa-nodes every node needs its distances, else
   * "error getting NUMA distances from cadvisor".
   */
  constructor(nodes: readonly NumaNode[], preferClosest: boolean) {
    const distances = new Map<number, readonly number[]>();
    for (const node of nodes) {
      if (preferClosest && !node.distances) throw new Error('error getting NUMA distances from cadvisor');
      distances.set(node.id, node.distances ?? []);
    }
    this.nodes = nodes.map((node) => node.id).sort((a, b) => a - b);
    this.distances = distances;
  }

  /** Every node: the affinity of a hint with no preference (upstream DefaultAffinityMask). */
  defaultAffinity(): NumaMask {
    return new NumaMask(this.nodes);
  }

  /** Upstream Narrowest: the mask with fewer nodes, on a tie the lower; `b` when neither is narrower. */
  narrowest(a: NumaMask, b: NumaMask): NumaMask {
    return a.isNarrowerThan(b) ? a : b;
  }

  /**
   * Upstream Closest: between masks of one size the lower average distance over every pair of
   * their nodes, on a tie the lower mask; masks of different sizes go by narrowest.
   */
  closest(a: NumaMask, b: NumaMask): NumaMask {
    if (a.count !== b.count) return this.narrowest(a, b);
    const da = this.averageDistance(a);
    const db = this.averageDistance(b);
    if (da === db) return a.isLessThan(b) ? a : b;
    return da < db ? a : b;
  }

  /** Upstream CalculateAverageFor: the mean distance over every ordered pair of the mask's nodes. */
  private averageDistance(mask: NumaMask): number {
    if (mask.count === 0) return 0;
    let sum = 0;
    for (const from of mask.bits) for (const to of mask.bits) sum += this.distances.get(from)?.[to] ?? 0;
    return sum / (mask.count * mask.count);
  }
}
