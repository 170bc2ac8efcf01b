import type {
  NftChain,
  NftChainContents,
  NftContribution,
  NftElement,
  NftElementPacker,
  NftMap,
  NftRuleBody,
  NftSet,
} from '@nodeagent/netfilter/nftables';

/**
 * Collects one owner's chains (with their rules in order), sets and elements. Given the
 * table's packer, elements go into the table's packed form as they come (`packed` takes them
 * part by part), with no element object per element.
 */
export class ContributionBuilder {
  /** Chains with the rules added so far; shared ones (frozen, see `shared`) as given. */
  private readonly chains = new Map<string, { chain: NftChain; rules: NftRuleBody[] } | NftChainContents>();
  private readonly sets: (NftSet | NftMap)[] = [];
  private readonly elements: NftElement[] = [];

  constructor(readonly packer?: NftElementPacker) {
    // The packer is the table's, shared by every builder: nothing a failed build left goes in.
    packer?.clear();
  }

  /** Declares a chain (a plain one when given a name); rules added later go to its end. */
  chain(chain: NftChain | string): this {
    const name = typeof chain === 'string' ? chain : chain.name;
    if (this.chains.has(name)) return this;
    const c: NftChain = typeof chain === 'string' ? { kind: 'chain', name } : chain;
    this.chains.set(name, { chain: c, rules: [] });
    return this;
  }

  rule(chain: string, rule: string, comment?: string): this {
    this.chain(chain);
    const rules = this.chains.get(chain)!.rules;
    if (Object.isFrozen(rules)) throw new Error(`chain ${chain} is shared: its rules are fixed`);
    (rules as NftRuleBody[]).push(comment === undefined ? { rule } : { rule, comment });
    return this;
  }

  /** Adds a complete chain that other owners hand in too, as that very object (its rules frozen: see SharedChains). */
  shared(contents: NftChainContents): this {
    if (!this.chains.has(contents.chain.name)) this.chains.set(contents.chain.name, contents);
    return this;
  }

  hasChain(name: string): boolean {
    return this.chains.has(name);
  }

  set(set: NftSet | NftMap): this {
    this.sets.push(set);
    return this;
  }

  element(container: string, key: readonly string[], value?: readonly string[], comment?: string): this {
    if (this.packer) {
      this.packer.element(container, key, value, comment);
      return this;
    }
    // Fields set one by one, not spread: a full build makes 220k of these at 10k Services, and
    // each spread allocated two throwaway objects.
    const element: NftElement = { kind: 'element', container, key };
    if (value) element.value = value;
    if (comment !== undefined) element.comment = comment;
    this.elements.push(element);
    return this;
  }

  build(): NftContribution {
    const chains = [...this.chains.values()];
    if (this.packer) return { chains, sets: this.sets, packedElements: this.packer.take() };
    return { chains, sets: this.sets, elements: this.elements };
  }
}
