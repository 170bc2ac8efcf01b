// What `explain` reports about one Service, whichever mode's kernel state it was read from.

/** One kernel rule (or nftables map element) that sends a Service's traffic somewhere. */
export interface ExplainedRule {
  /** iptables: the table (`nat`, `filter`); nftables: `map <name>` for a dispatch map element. */
  table: string;
  /** The chain (or nftables map) the rule sits in. */
  chain: string;
  /** The rule as iptables-save printed it. */
  rule: string;
  /** Where it jumps: the `-j` target, or the element's verdict. */
  target: string;
}

/** One endpoint chain a service chain picks from, and where it sends the packet. */
export interface ExplainedEndpointChain {
  /** The endpoint chain's name (KUBE-SEP-… / `endpoint-…`). */
  chain: string;
  /** DNAT destination ("ip:port"), if the chain has one. */
  destination?: string;
  /** Probability of the jump from the service chain ("1" for the last, unconditional rule). */
  probability?: string;
}

/** One per-Service chain (KUBE-SVC/SVL/EXT/FW or nftables' service chains) and the endpoints it picks from. */
export interface ExplainedServiceChain {
  /** The chain's name. */
  chain: string;
  /** The chain's rules as the kernel listed them. */
  rules: string[];
  /** The endpoint chains the rules jump to, in rule order. */
  endpoints: ExplainedEndpointChain[];
}

/**
 * What `explain` found in the kernel for one Service (explainIptablesService,
 * explainNftablesService); formatServiceExplanation prints it.
 */
export interface ServiceExplanation {
  /** The Service asked about, "ns/name". */
  service: string;
  /** Rules in our top-level chains that mention the Service (entry points, REJECT/DROP). */
  entryRules: ExplainedRule[];
  /** KUBE-SVC/SVL/EXT/FW chains reached from those rules, with their endpoints. */
  chains: ExplainedServiceChain[];
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
