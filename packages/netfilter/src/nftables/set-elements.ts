/**
 * What IncrementalNftTable needs of one container's elements by id: a JS Map has it, and so
 * does SetElements. Iteration order is insertion order; setting a held id keeps its place.
 */
export interface ElementMap<V> {
  readonly size: number;
  get(id: string): V | undefined;
  set(id: string, value: V): this;
  delete(id: string): boolean;
  forEach(visit: (value: V, id: string) => void): void;
}

/**
 * The elements of a set (not a map): nearly all of them have the empty value (no comment, no
 * timeout), so the ids are a Set and only the other values are kept beside it. A Set's entry
 * is two words where a Map's is three: at 1M endpoints kube-proxy's hairpin set holds 1M
 * elements, and its table took ~28 MB as a Map, ~20 MB as a Set.
 */
export class SetElements<V> implements ElementMap<V> {
  private readonly ids = new Set<string>();
  /** Values other than `empty`, by id. */
  private readonly others = new Map<string, V>();

  constructor(private readonly empty: V) {}

  get size(): number {
    return this.ids.size;
  }

  get(id: string): V | undefined {
    if (this.others.size > 0) {
      const value = this.others.get(id);
      if (value !== undefined) return value;
    }
    return this.ids.has(id) ? this.empty : undefined;
  }

  set(id: string, value: V): this {
    this.ids.add(id);
    if (value !== this.empty) this.others.set(id, value);
    else if (this.others.size > 0) this.others.delete(id);
    return this;
  }

  delete(id: string): boolean {
    if (this.others.size > 0) this.others.delete(id);
    return this.ids.delete(id);
  }

  forEach(visit: (value: V, id: string) => void): void {
    const { others, empty } = this;
    this.ids.forEach((id) => {
      visit(others.size > 0 ? (others.get(id) ?? empty) : empty, id);
    });
  }
}
