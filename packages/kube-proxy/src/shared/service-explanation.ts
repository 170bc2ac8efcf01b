// What `explain` reports about one Service, whichever mode's kernel state it was read from.

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
