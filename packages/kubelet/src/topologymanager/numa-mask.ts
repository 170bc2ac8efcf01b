/**
 * A set of NUMA node ids (upstream's bitmask.BitMask, a uint64 with bit n for node n): immutable,
 * with the two orders the topology manager ranks affinities by.
 */
export class NumaMask {
  /** The node ids, ascending (upstream GetBits). */
  readonly bits: readonly number[];

  constructor(bits: Iterable<number> = []) {
    this.bits = [...new Set(bits)].sort((a, b) => a - b);
  }

  /** How many nodes the mask holds (upstream Count). */
  get count(): number {
    return this.bits.length;
  }

  /** Whether node `bit` is in the mask (upstream IsSet). */
  has(bit: number): boolean {
    return this.bits.includes(bit);
  }

  /** Whether both masks hold the same nodes (upstream IsEqual). */
  equals(other: NumaMask): boolean {
    return this.count === other.count && this.bits.every((bit) => other.has(bit));
  }

  /**
   * Upstream IsLessThan, a comparison of the two masks as integers: the highest node that is in
   * one mask and not the other decides, the mask without it being the smaller.
   */
  isLessThan(other: NumaMask): boolean {
    const highest = [...this.bits, ...other.bits]
      .filter((bit) => this.has(bit) !== other.has(bit))
      .reduce((a, b) => Math.max(a, b), -1);
    return highest >= 0 && other.has(highest);
  }

  /** Upstream IsNarrowerThan: fewer nodes, or as many and the lower integer value. */
  isNarrowerThan(other: NumaMask): boolean {
    if (this.count === other.count) return this.isLessThan(other);
    return this.count < other.count;
  }

  /** The nodes in this mask and in every one of `others` (upstream bitmask.And). */
  and(...others: NumaMask[]): NumaMask {
    return new NumaMask(this.bits.filter((bit) => others.every((other) => other.has(bit))));
  }

  /** The node ids for a log line ("[0 1]"). */
  toString(): string {
    return `[${this.bits.join(' ')}]`;
  }
}

/**
 * Upstream IterateBitMasks: every non-empty combination of `bits`, by size (all single nodes
 * first, then pairs ...), each size in the order of the nodes given.
 */
export function everyNumaMask(bits: readonly number[], visit: (mask: NumaMask) => void): void {
  const choose = (start: number, size: number, chosen: number[]) => {
    if (chosen.length === size) {
      visit(new NumaMask(chosen));
      return;
    }
    for (let i = start; i < bits.length; i++) choose(i + 1, size, [...chosen, bits[i] as number]);
  };
  for (let size = 1; size <= bits.length; size++) choose(0, size, []);
}
