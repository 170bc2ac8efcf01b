import { splitTokens } from '@nodeagent/netfilter/iptables';
import type { ProxySnapshot } from '../src/index';
import {
  type IptablesBackendOptions,
  type IptablesRuleset,
  type PreparedIptablesSync,
  renderIptablesRuleset,
} from '../src/iptables/index';

/**
 * The filter and nat tables an iptables-restore payload writes, as argument vectors (chains
 * declared, rules in payload order, chains deleted), for tests that look at single rules.
 */
export function rulesetOf(payload: string): IptablesRuleset {
  const tables = {
    filter: { chains: [] as string[], rules: [] as string[][], deleteChains: [] as string[] },
    nat: { chains: [] as string[], rules: [] as string[][], deleteChains: [] as string[] },
  };
  let table: (typeof tables)['nat'] | undefined;
  for (const line of payload.split('\n')) {
    if (line.startsWith('*')) table = tables[line.slice(1) as 'filter' | 'nat'];
    else if (!table || line === '' || line === 'COMMIT') continue;
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0]!;
      if (!table.chains.includes(chain)) table.chains.push(chain);
    } else if (line.startsWith('-X ')) {
      const chain = line.slice(3);
      table.chains = table.chains.filter((c) => c !== chain);
      table.deleteChains.push(chain);
    } else {
      const tokens = splitTokens(line);
      if (!tokens) throw new Error(`unparsable payload line: ${line}`);
      table.rules.push(tokens);
    }
  }
  return tables;
}

/** A full sync's render (renderIptablesRuleset) with its payload parsed into tables. */
export function renderedRuleset(
  snapshot: ProxySnapshot,
  options: IptablesBackendOptions = {},
  existingNatChains: Iterable<string> = [],
): PreparedIptablesSync & { readonly ruleset: IptablesRuleset } {
  const sync = renderIptablesRuleset(snapshot, options, existingNatChains);
  return Object.assign(sync, { ruleset: rulesetOf(sync.payload) });
}
