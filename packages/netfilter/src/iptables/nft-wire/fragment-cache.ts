// Encoded rule parts that recur across a full sync (a protocol, `-m tcp`, a probability, a
// verdict, a jump to KUBE-MARK-MASQ), kept by the part's kind and a key of that kind: the key is
// the part's own string or number (a protocol name, a probability, a chain), so no key text is
// built per rule. Other kinds go under `other` with a key text naming all their fields.

/** What a fragment's key identifies; each kind has its own keys. */
export const FragmentKind = {
  other: 0,
  /** A protocol, not negated: its name. */
  protocol: 1,
  /** A match module without options: its name. */
  module: 2,
  /** `-m statistic --mode random`: the probability. */
  statistic: 3,
  /** ACCEPT, DROP, RETURN. */
  verdict: 4,
  /** `-j CHAIN`: the chain. */
  jump: 5,
  /** `-g CHAIN`: the chain. */
  goto: 6,
} as const;

/** Fragments by kind and key, at most `max` of them in all. */
export class FragmentCache {
  private readonly byKind: Map<string | number, Buffer>[] = Object.values(FragmentKind).map(() => new Map());
  private size = 0;

  constructor(private readonly max: number) {}

  /** The fragment kept for `key` of `kind`. */
  get(kind: number, key: string | number): Buffer | undefined {
    return this.byKind[kind]?.get(key);
  }

  /** Whether it keeps no more. */
  get full(): boolean {
    return this.size >= this.max;
  }

  /** Keeps `bytes` for `key` of `kind`. */
  set(kind: number, key: string | number, bytes: Buffer): void {
    this.byKind[kind]?.set(key, bytes);
    this.size++;
  }
}
