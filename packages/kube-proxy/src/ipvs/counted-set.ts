/**
 * A set whose members may be contributed more than once (a ClusterIP bound by two ports of one
 * Service): a member stays until every contribution is withdrawn. `members` is a plain Set, so
 * callers can copy it natively; only repeated contributions cost a map entry.
 */
export class CountedSet {
  readonly members = new Set<string>();
  /** Contributions beyond the first, per member that has any. */
  private readonly repeats = new Map<string, number>();
  /** Bumped whenever `members` changes, so a copy of it can be reused while this is unchanged. */
  version = 0;

  add(x: string): void {
    if (this.members.has(x)) this.repeats.set(x, (this.repeats.get(x) ?? 0) + 1);
    else {
      this.members.add(x);
      this.version++;
    }
  }

  /** Withdraws one contribution; the member goes when it was the last. */
  delete(x: string): void {
    const r = this.repeats.get(x);
    if (r === undefined) {
      if (this.members.delete(x)) this.version++;
    } else if (r === 1) this.repeats.delete(x);
    else this.repeats.set(x, r - 1);
  }

  /** Whether `x` has more than one contribution. */
  shared(x: string): boolean {
    return this.repeats.has(x);
  }

  get size(): number {
    return this.members.size;
  }
}
