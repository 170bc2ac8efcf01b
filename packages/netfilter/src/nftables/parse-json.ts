import { ParseError } from '../errors';
import type {
  BaseChainHook,
  BaseChainType,
  NftChain,
  NftElement,
  NftFamily,
  NftMap,
  NftRule,
  NftRuleset,
  NftSet,
} from './model';

// Read-back: `nft -j list table` gives tables, chains, sets, maps and elements as structured
// JSON; rule bodies there are expression trees, so their nft-syntax text is taken from the
// text listing (`nft -a list table`) by rule handle.

type Json = Record<string, unknown>;

const priorityNames: Record<string, Record<number, string>> = {
  nat: { [-100]: 'dstnat', 100: 'srcnat' },
};

function typeText(type: unknown): string {
  return Array.isArray(type) ? type.join(' . ') : String(type);
}

/** A JSON element key/value back to nft syntax parts. */
function valueParts(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string' || typeof value === 'number') return [String(value)];
  const v = value as Json;
  if (Array.isArray(v.concat)) return (v.concat as unknown[]).flatMap(valueParts);
  if (v.prefix) {
    const p = v.prefix as Json;
    return [`${String(p.addr)}/${String(p.len)}`];
  }
  if (Array.isArray(v.range)) return [`${String(v.range[0])}-${String(v.range[1])}`];
  for (const verdict of ['goto', 'jump'] as const) {
    if (v[verdict]) return [`${verdict} ${String((v[verdict] as Json).target)}`];
  }
  for (const verdict of ['accept', 'drop', 'continue', 'return']) if (verdict in v) return [verdict];
  return [JSON.stringify(value)];
}

function parseElement(container: string, raw: unknown, isMap: boolean): NftElement {
  const [keyRaw, valueRaw] = isMap && Array.isArray(raw) ? raw : [raw, undefined];
  let key = keyRaw;
  let comment: string | undefined;
  let timeout: string | undefined;
  if (key && typeof key === 'object' && 'elem' in (key as Json)) {
    const elem = (key as Json).elem as Json;
    key = elem.val;
    if (typeof elem.comment === 'string') comment = elem.comment;
    if (typeof elem.timeout === 'number') timeout = `${elem.timeout}s`;
  }
  return {
    kind: 'element',
    container,
    key: valueParts(key),
    ...(isMap ? { value: valueParts(valueRaw) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
}

/** Rule bodies by handle from `nft -a list table` text (trailing `comment "…"` removed). */
export function ruleTextsByHandle(text: string): Map<number, string> {
  const rules = new Map<number, string>();
  for (const line of text.split('\n')) {
    const match = /^\s+(.*?)\s+# handle (\d+)$/.exec(line);
    if (!match || /^(chain|table|set|map|flowtable)\s/.test(match[1]!)) continue;
    rules.set(Number(match[2]), match[1]!.replace(/\s+comment "(?:[^"\\]|\\.)*"$/, ''));
  }
  return rules;
}

/**
 * Parse `nft -j list table <family> <name>` output (plus, for rule bodies, the `nft -a list
 * table` text) into a ruleset.
 */
export function parseNftJson(json: string, ruleText = ''): NftRuleset {
  let doc: { nftables?: Json[] };
  try {
    doc = JSON.parse(json);
  } catch (error) {
    throw new ParseError(1, json.slice(0, 80), `not JSON: ${(error as Error).message}`);
  }
  const items = doc.nftables;
  if (!Array.isArray(items)) throw new ParseError(1, json.slice(0, 80), 'no "nftables" array');
  const texts = ruleTextsByHandle(ruleText);
  let family: NftFamily | undefined;
  let table: string | undefined;
  const ruleset: Omit<NftRuleset, 'family' | 'table'> = {
    chains: [],
    rules: {},
    sets: [],
    maps: [],
    elements: {},
  };
  for (const item of items) {
    if (item.table) {
      const t = item.table as Json;
      family = t.family as NftFamily;
      table = String(t.name);
      if (typeof t.comment === 'string') ruleset.comment = t.comment;
    } else if (item.chain) {
      const c = item.chain as Json;
      const chain: NftChain = { kind: 'chain', name: String(c.name) };
      if (c.type) {
        chain.type = c.type as BaseChainType;
        chain.hook = c.hook as BaseChainHook;
        const prio = Number(c.prio);
        chain.priority = priorityNames[chain.type]?.[prio] ?? prio;
        if (c.policy) chain.policy = c.policy as 'accept' | 'drop';
        if (typeof c.dev === 'string') chain.device = c.dev;
      }
      if (typeof c.comment === 'string') chain.comment = c.comment;
      ruleset.chains.push(chain);
      ruleset.rules[chain.name] = [];
    } else if (item.rule) {
      const r = item.rule as Json;
      const handle = Number(r.handle);
      const rule: NftRule = {
        kind: 'rule',
        chain: String(r.chain),
        rule: texts.get(handle) ?? JSON.stringify(r.expr),
        handle,
        ...(typeof r.comment === 'string' ? { comment: r.comment } : {}),
      };
      ruleset.rules[rule.chain] ??= [];
      ruleset.rules[rule.chain]!.push(rule);
    } else if (item.set || item.map) {
      const isMap = !!item.map;
      const s = (item.set ?? item.map) as Json;
      const base = {
        name: String(s.name),
        type: typeText(s.type),
        ...(Array.isArray(s.flags) && s.flags.length > 0 ? { flags: s.flags as NftSet['flags'] } : {}),
        ...(typeof s.timeout === 'number' ? { timeout: `${s.timeout}s` } : {}),
        ...(typeof s.size === 'number' ? { size: s.size } : {}),
        ...(typeof s.comment === 'string' ? { comment: s.comment } : {}),
      };
      if (isMap) ruleset.maps.push({ kind: 'map', ...base, valueType: typeText(s.map) } as NftMap);
      else ruleset.sets.push({ kind: 'set', ...base } as NftSet);
      ruleset.elements[base.name] = Array.isArray(s.elem)
        ? s.elem.map((e) => parseElement(base.name, e, isMap))
        : [];
    }
  }
  if (!family || !table) throw new ParseError(1, json.slice(0, 80), 'no table in the listing');
  return { family, table, ...ruleset };
}
