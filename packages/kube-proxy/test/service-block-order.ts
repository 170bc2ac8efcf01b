/**
 * The top-level chains whose rules come from upstream's loop over service ports: upstream
 * iterates a Go map there, so the order of one service port's block of rules relative to
 * another's is random per sync (a recorded iptables-save holds one such order).
 */
const SERVICE_LOOP_CHAINS = new Set([
  'KUBE-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-EXTERNAL-SERVICES',
  'KUBE-PROXY-FIREWALL',
]);

/** The service port a rule belongs to: its comment's first word ("ns/name:port …"), if it names one. */
function servicePortOf(line: string): string | undefined {
  const m = /--comment "?([^ "]+)/.exec(line);
  return m && m[1]!.includes('/') ? m[1] : undefined;
}

/**
 * An iptables-save listing with the service-port blocks of SERVICE_LOOP_CHAINS sorted by
 * service port name, everything else as it was: two listings that differ only in that Go-map
 * order become equal. Each service port's rules must form one contiguous block in a chain
 * (upstream writes them in one iteration); a port seen in two blocks throws.
 */
export function orderServiceBlocks(lines: readonly string[]): string[] {
  const out: string[] = [];
  let table = '';
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('*')) table = line;
    const chain = line.startsWith('-A ') ? line.slice(3, line.indexOf(' ', 3)) : '';
    if (!SERVICE_LOOP_CHAINS.has(chain) || servicePortOf(line) === undefined) {
      out.push(line);
      i++;
      continue;
    }
    // A run of this chain's rules that belong to service ports, grouped into blocks.
    const blocks = new Map<string, string[]>();
    let last = '';
    while (i < lines.length && lines[i]!.startsWith(`-A ${chain} `)) {
      const port = servicePortOf(lines[i]!);
      if (port === undefined) break;
      if (port !== last && blocks.has(port))
        throw new Error(`${table} ${chain}: the rules of ${port} are not contiguous`);
      last = port;
      blocks.set(port, [...(blocks.get(port) ?? []), lines[i]!]);
      i++;
    }
    for (const port of [...blocks.keys()].sort()) out.push(...blocks.get(port)!);
  }
  return out;
}
