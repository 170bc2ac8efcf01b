import { splitTokens } from '@nodeagent/netfilter/iptables';
import type {
  ExplainedEndpointChain,
  ExplainedRule,
  ExplainedServiceChain,
  ServiceExplanation,
} from '../shared/service-explanation';
import { isServiceChainName } from './chain-names';

/** One rule as iptables-save prints it, split into tokens. */
interface SavedRule {
  table: string;
  chain: string;
  args: string[];
  text: string;
}

function parseSaveRules(text: string): SavedRule[] {
  const out: SavedRule[] = [];
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (!line.startsWith('-A ')) continue;
    const tokens = splitTokens(line);
    if (!tokens) continue;
    out.push({ table, chain: tokens[1]!, args: tokens.slice(2), text: line });
  }
  return out;
}

function optionValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** The comment names this Service: "ns/name", "ns/name:port ...", "ns/name has no endpoints". */
function mentions(args: readonly string[], service: string): boolean {
  const c = optionValue(args, '--comment');
  if (!c) return false;
  return (
    c === service ||
    c.startsWith(`${service}:`) ||
    c.startsWith(`${service} `) ||
    c.includes(` ${service}:`) ||
    c.includes(` ${service} `)
  );
}

/**
 * For `explain`: what the kernel's iptables state (iptables-save output of nat and filter)
 * does with one Service — entry rules, the service chains they reach and the endpoints
 * (DNAT destinations) those chains pick from.
 */
export function explainIptablesService(saveText: string, service: string): ServiceExplanation {
  const rules = parseSaveRules(saveText);
  const byChain = new Map<string, SavedRule[]>();
  for (const r of rules) {
    const key = `${r.table}/${r.chain}`;
    byChain.set(key, [...(byChain.get(key) ?? []), r]);
  }
  const entryRules: ExplainedRule[] = rules
    .filter((r) => !isServiceChainName(r.chain) && mentions(r.args, service))
    .map((r) => ({ table: r.table, chain: r.chain, rule: r.text, target: optionValue(r.args, '-j') ?? '' }));

  const chains: ExplainedServiceChain[] = [];
  const seen = new Set<string>();
  const queue = entryRules
    .map((r) => r.target)
    .filter((t) => isServiceChainName(t) && !t.startsWith('KUBE-SEP-'));
  while (queue.length > 0) {
    const chain = queue.shift()!;
    if (seen.has(chain)) continue;
    seen.add(chain);
    const own = byChain.get(`nat/${chain}`) ?? [];
    const endpoints: ExplainedEndpointChain[] = [];
    for (const r of own) {
      const target = optionValue(r.args, '-j') ?? '';
      if (target.startsWith('KUBE-SEP-')) {
        if (r.args.includes('--rcheck')) continue; // affinity lookups repeat the endpoints
        const sep = byChain.get(`nat/${target}`) ?? [];
        const dnat = sep.find((x) => optionValue(x.args, '-j') === 'DNAT');
        endpoints.push({
          chain: target,
          destination: dnat ? optionValue(dnat.args, '--to-destination') : undefined,
          probability: optionValue(r.args, '--probability') ?? '1',
        });
      } else if (isServiceChainName(target)) {
        queue.push(target);
      }
    }
    chains.push({ chain, rules: own.map((r) => r.text), endpoints });
  }
  return { service, entryRules, chains };
}
