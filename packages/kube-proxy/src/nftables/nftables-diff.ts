import type { NftChain, NftElement, NftMap, NftOperation, NftSet } from '@nodeagent/netfilter';
import { NftTransaction } from '@nodeagent/netfilter';

/** The contents of the kube-proxy table as a comparable model (from a full-build transaction). */
export interface NftDesiredState {
  readonly chains: ReadonlyMap<string, NftChain>;
  /** Rules per chain, as `rule | comment` strings in order. */
  readonly rules: ReadonlyMap<string, readonly { rule: string; comment?: string }[]>;
  readonly sets: ReadonlyMap<string, NftSet | NftMap>;
  /** Elements per set/map, keyed by the joined key. */
  readonly elements: ReadonlyMap<string, ReadonlyMap<string, NftElement>>;
}

/** Collects what a full-build transaction creates (table-level operations are ignored). */
export function desiredStateOf(ops: readonly NftOperation[]): NftDesiredState {
  const chains = new Map<string, NftChain>();
  const rules = new Map<string, { rule: string; comment?: string }[]>();
  const sets = new Map<string, NftSet | NftMap>();
  const elements = new Map<string, Map<string, NftElement>>();
  for (const { verb, object } of ops) {
    if (verb !== 'add') continue;
    switch (object.kind) {
      case 'chain':
        chains.set(object.name, object);
        if (!rules.has(object.name)) rules.set(object.name, []);
        break;
      case 'rule': {
        const list = rules.get(object.chain) ?? [];
        list.push(
          object.comment === undefined
            ? { rule: object.rule }
            : { rule: object.rule, comment: object.comment },
        );
        rules.set(object.chain, list);
        break;
      }
      case 'set':
      case 'map':
        sets.set(object.name, object);
        if (!elements.has(object.name)) elements.set(object.name, new Map());
        break;
      case 'element': {
        const m = elements.get(object.container) ?? new Map<string, NftElement>();
        m.set(object.key.join(' . '), object);
        elements.set(object.container, m);
        break;
      }
      default:
        break;
    }
  }
  return { chains, rules, sets, elements };
}

const sameRules = (
  a: readonly { rule: string; comment?: string }[],
  b: readonly { rule: string; comment?: string }[],
) => a.length === b.length && a.every((r, i) => r.rule === b[i]!.rule && r.comment === b[i]!.comment);

const sameElement = (a: NftElement, b: NftElement) =>
  (a.value ?? []).join(' ') === (b.value ?? []).join(' ') && a.comment === b.comment;

const sameSet = (a: NftSet | NftMap, b: NftSet | NftMap) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The transaction turning `prev` (what we last applied) into `next`: only changed chains are
 * flushed and rewritten, only changed elements are deleted/added, stale chains and sets are
 * removed last (after everything referencing them). Empty when nothing changed; undefined
 * when a set or map definition changed (e.g. an affinity timeout), which needs a full replacement
 * because rules still referencing the old set would block deleting it.
 */
export function diffNftables(prev: NftDesiredState, next: NftDesiredState): NftTransaction | undefined {
  for (const [name, s] of next.sets) {
    const old = prev.sets.get(name);
    if (old && !sameSet(old, s)) return undefined;
  }
  const tx = new NftTransaction();
  for (const [name, c] of next.chains) if (!prev.chains.has(name)) tx.add(c);
  for (const [name, s] of next.sets) if (!prev.sets.has(name)) tx.add(s);
  for (const [container, nextEls] of next.elements) {
    const prevEls = prev.elements.get(container) ?? new Map<string, NftElement>();
    for (const [k, e] of prevEls) {
      const n = nextEls.get(k);
      if (!n || !sameElement(e, n)) tx.delete({ kind: 'element', container, key: e.key });
    }
    for (const [k, e] of nextEls) {
      const p = prevEls.get(k);
      if (!p || !sameElement(p, e)) tx.add(e);
    }
  }
  for (const [chain, rules] of next.rules) {
    const old = prev.rules.get(chain);
    if (old && sameRules(old, rules)) continue;
    if (old && old.length > 0) tx.flush({ kind: 'chain', name: chain });
    for (const r of rules)
      tx.add({
        kind: 'rule',
        chain,
        rule: r.rule,
        ...(r.comment !== undefined ? { comment: r.comment } : {}),
      });
  }
  const staleChains = [...prev.chains.keys()].filter((c) => !next.chains.has(c));
  for (const c of staleChains) if ((prev.rules.get(c) ?? []).length > 0) tx.flush({ kind: 'chain', name: c });
  for (const c of staleChains) tx.delete({ kind: 'chain', name: c });
  for (const name of prev.sets.keys()) if (!next.sets.has(name)) tx.delete(prev.sets.get(name)!);
  return tx;
}
