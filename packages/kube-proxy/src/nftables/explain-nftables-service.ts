import { joinHostPort } from '@nodeagent/primitives/go-text';
import type {
  ExplainedEndpointChain,
  ExplainedServiceChain,
  ServiceExplanation,
} from '../shared/service-explanation';

interface ParsedTable {
  chains: Map<string, string[]>;
  /** Map/set name → element texts. */
  elements: Map<string, string[]>;
}

/** Splits `a, b, c` at top level (ignoring commas inside quotes or braces). */
function splitElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === '{') depth++;
    if (!quoted && ch === '}') depth--;
    if (!quoted && depth === 0 && ch === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Reads `nft list table` text: chains with their rules, sets/maps with their elements. */
function parseListTable(text: string): ParsedTable {
  const chains = new Map<string, string[]>();
  const elements = new Map<string, string[]>();
  let block: { kind: 'chain' | 'set'; name: string } | undefined;
  let collecting: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (collecting !== undefined) {
      collecting += ` ${line}`;
      if (line.endsWith('}')) {
        elements.set(block!.name, splitElements(collecting.slice(0, collecting.lastIndexOf('}'))));
        collecting = undefined;
      }
      continue;
    }
    const open = /^(chain|set|map) (\S+) \{$/.exec(line);
    if (open) {
      block = { kind: open[1] === 'chain' ? 'chain' : 'set', name: open[2]! };
      if (block.kind === 'chain') chains.set(block.name, []);
      continue;
    }
    if (line === '}') {
      block = undefined;
      continue;
    }
    if (!block) continue;
    if (block.kind === 'set' && line.startsWith('elements = {')) {
      const body = line.slice('elements = {'.length);
      if (body.trimEnd().endsWith('}'))
        elements.set(block.name, splitElements(body.slice(0, body.lastIndexOf('}'))));
      else collecting = body;
      continue;
    }
    if (block.kind === 'chain' && !/^(type|policy|comment) /.test(line)) chains.get(block.name)!.push(line);
  }
  return { chains, elements };
}

const DISPATCH_MAPS = [
  'service-ips',
  'service-nodeports',
  'firewall-ips',
  'no-endpoint-services',
  'no-endpoint-nodeports',
];

/**
 * `explain` for nftables mode: from `nft list table ip|ip6 kube-proxy` text, the map elements
 * that dispatch to one Service, its chains, and the endpoints (DNAT destinations) they pick from.
 */
export function explainNftablesService(listText: string, service: string): ServiceExplanation {
  const t = parseListTable(listText);
  const marker = `-${service}/`;
  const owned = [...t.chains.keys()].filter(
    (c) => c.includes(marker) && /^[A-Z0-9]{8}-/.test(c.slice(c.indexOf('-') + 1)),
  );
  const ownedSet = new Set(owned);
  const entryRules = DISPATCH_MAPS.flatMap((map) =>
    (t.elements.get(map) ?? [])
      .filter((e) => {
        const verdict = e.slice(e.lastIndexOf(':') + 1).trim();
        const target = verdict.split(' ')[1];
        const comment = /comment "([^"]*)"/.exec(e)?.[1];
        return (target && ownedSet.has(target)) || comment === service || comment?.startsWith(`${service}:`);
      })
      .map((e) => ({
        table: `map ${map}`,
        chain: map,
        rule: e,
        target: e.slice(e.lastIndexOf(':') + 1).trim(),
      })),
  );
  const chains: ExplainedServiceChain[] = owned
    .filter((c) => !c.startsWith('endpoint-'))
    .map((chain) => {
      const rules = t.chains.get(chain) ?? [];
      const endpoints: ExplainedEndpointChain[] = [];
      for (const r of rules) {
        const vmap = /numgen random mod (\d+) vmap \{ (.*) \}/.exec(r);
        if (!vmap) continue;
        const n = Number(vmap[1]);
        for (const m of vmap[2]!.matchAll(/goto (endpoint-\S+?)(?:,|$|\s)/g)) {
          const ep = m[1]!;
          const dnat = (t.chains.get(ep) ?? []).map((x) => /dnat to (\S+)/.exec(x)?.[1]).find(Boolean);
          endpoints.push({ chain: ep, destination: dnat, probability: (1 / n).toFixed(10) });
        }
      }
      return { chain, rules, endpoints };
    });
  // Element-keyed Services dispatch to shared chains that DNAT through an endpoint map keyed
  // by the dispatch element's own key plus a slot: follow each entry through those chains.
  const visited = new Set<string>();
  const walk = (chain: string, key: string, depth: number) => {
    const id = `${chain}\u0000${key}`;
    if (depth > 4 || ownedSet.has(chain) || visited.has(id) || !t.chains.has(chain)) return;
    visited.add(id);
    const rules = t.chains.get(chain)!;
    const endpoints: ExplainedEndpointChain[] = [];
    for (const r of rules) {
      const m = /numgen random mod (\d+) map @(\S+)/.exec(r);
      if (m) endpoints.push(...endpointsInMap(t, m[2]!, key, Number(m[1])));
      const next = /goto (\S+)/.exec(r)?.[1];
      if (next) walk(next, key, depth + 1);
    }
    chains.push({ chain: `${chain} (${key})`, rules, endpoints });
  };
  for (const e of entryRules) {
    if (e.chain !== 'service-ips' && e.chain !== 'service-nodeports') continue;
    const target = /^goto (\S+)$/.exec(e.target)?.[1];
    if (target) walk(target, elementKey(e.rule), 0);
  }
  return { service, entryRules, chains };
}

/** `k1 . k2 [comment "c"] : value` → `k1 . k2`. */
function elementKey(element: string): string {
  return element.split(/ comment "| : /)[0]!.trim();
}

/** Elements `key . slot : ip . port` of an endpoint map for one dispatch key. */
function endpointsInMap(t: ParsedTable, map: string, key: string, count: number): ExplainedEndpointChain[] {
  const out: ExplainedEndpointChain[] = [];
  for (const e of t.elements.get(map) ?? []) {
    const [k, v] = e.split(' : ');
    if (!k || !v || !k.startsWith(`${key} . `)) continue;
    const [ip = '', port = ''] = v.split(' . ').map((x) => x.trim());
    out.push({
      chain: `${map}[${k.trim()}]`,
      destination: joinHostPort(ip, port),
      probability: (1 / count).toFixed(10),
    });
  }
  return out;
}
