import type { NftChainContents, NftRuleBody } from '@nodeagent/netfilter/nftables';

/**
 * The chains many Service ports share (endpoint selection and external traffic per endpoint
 * count), each built once per ruleset and handed to every port that uses it as the very same
 * object; and the `goto <chain>` verdicts that point at them. A full sync at 44k Services
 * otherwise built a chain, its rule text and a verdict string per port only for the table to
 * compare them with the copy it already held and drop them.
 */
export class SharedChains {
  private readonly chains = new Map<string, NftChainContents>();
  private readonly gotos = new Map<string, string>();

  /** The chain built earlier under `name`, if any (its rules depend on nothing but the name and the ruleset's options). */
  get(name: string): NftChainContents | undefined {
    return this.chains.get(name);
  }

  /** Keeps `rules` as the chain `name` from now on and returns it. */
  put(name: string, rules: readonly NftRuleBody[]): NftChainContents {
    // Frozen rules mark the chain as shared for ContributionBuilder.rule.
    const chain: NftChainContents = Object.freeze({
      chain: Object.freeze({ kind: 'chain', name }),
      rules: Object.freeze([...rules]),
    });
    this.chains.set(name, chain);
    return chain;
  }

  /** `goto <name>`, one string per chain name. */
  goto(name: string): string {
    let verdict = this.gotos.get(name);
    if (verdict === undefined) {
      verdict = `goto ${name}`;
      this.gotos.set(name, verdict);
    }
    return verdict;
  }
}
