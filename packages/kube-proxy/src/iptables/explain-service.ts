import { splitTokens } from '@nodeagent/netfilter';
import { isServiceChainName } from './chain-names';

/** One rule as iptables-save prints it, split into tokens. */
interface SavedRule {
  table: string;
  chain: string;
  args: string[];
  text: string;
}

export interface ExplainedRule {
  table: string;
  chain: string;
  /** The rule as iptables-save printed it. */
  rule: string;
  target: string;
}

export interface ExplainedEndpointChain {
  chain: string;
  /** DNAT destination ("ip:port"), if the chain has one. */
  destination?: string;
  /** Probability of the jump from the service chain ("1" for the last, unconditional rule). */
  probability?: string;
}

export interface ExplainedServiceChain {
  chain: string;
  rules: string[];
  endpoints: ExplainedEndpointChain[];
}

export interface ServiceExplanation {
  service: string;
  /** Rules in our top-level chains that mention the Service (entry points, REJECT/DROP). */
  entryRules: ExplainedRule[];
  /** KUBE-SVC/SVL/EXT/FW chains reached from those rules, with their endpoints. */
  chains: ExplainedServiceChain[];
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

/** Human-readable form of an explanation. */
export function formatServiceExplanation(e: ServiceExplanation): string {
  const lines = [`Service ${e.service}`];
  if (e.entryRules.length === 0 && e.chains.length === 0) {
    lines.push('  no rules found (unknown Service, headless/ExternalName, or another proxy owns it)');
    return `${lines.join('\n')}\n`;
  }
  lines.push('  entry rules:');
  for (const r of e.entryRules) lines.push(`    [${r.table}] ${r.rule}`);
  for (const c of e.chains) {
    lines.push(`  chain ${c.chain}:`);
    for (const ep of c.endpoints) {
      lines.push(`    -> ${ep.chain}  p=${ep.probability}  DNAT ${ep.destination ?? '(none)'}`);
    }
    if (c.endpoints.length === 0) for (const r of c.rules) lines.push(`    ${r}`);
  }
  return `${lines.join('\n')}\n`;
}
