// `nft list ruleset` output (as recorded in the fidelity fixtures) back into transactions: one
// per table, declaring chains first, then sets and maps, their elements, and the rules — the
// order in which every reference resolves.

import type {
  BaseChainHook,
  BaseChainType,
  NftChain,
  NftElement,
  NftFamily,
  NftMap,
  NftRule,
  NftSet,
} from '../../src/nftables/model';
import { NftTransaction } from '../../src/nftables/transaction';

export interface ListedTable {
  family: NftFamily;
  table: string;
  transaction: NftTransaction;
  ruleCount: number;
  elementCount: number;
}

const unquote = (text: string) => text.slice(1, -1).replace(/\\(["\\])/g, '$1');

/** Split on commas outside double quotes and braces. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

function parseElement(container: string, text: string, isMap: boolean): NftElement {
  const [keyPart, valuePart] = isMap ? splitOnce(text, ' : ') : [text, undefined];
  let rest = keyPart;
  let comment: string | undefined;
  let timeout: string | undefined;
  const commentMatch = / comment ("(?:[^"\\]|\\.)*")$/.exec(rest);
  if (commentMatch) {
    comment = unquote(commentMatch[1] as string);
    rest = rest.slice(0, commentMatch.index);
  }
  rest = rest.replace(/ expires \S+/, '');
  const timeoutMatch = / timeout (\S+)$/.exec(rest);
  if (timeoutMatch) {
    timeout = timeoutMatch[1];
    rest = rest.slice(0, timeoutMatch.index);
  }
  const element: NftElement = { kind: 'element', container, key: rest.split(' . ').map((p) => p.trim()) };
  if (valuePart !== undefined) element.value = [valuePart.trim()];
  if (comment !== undefined) element.comment = comment;
  if (timeout !== undefined) element.timeout = timeout;
  return element;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  // The separator outside quotes: a comment may contain it.
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (!quoted && text.startsWith(separator, i))
      return [text.slice(0, i), text.slice(i + separator.length)];
  }
  return [text, undefined];
}

export function parseListing(listing: string): ListedTable[] {
  const lines = listing.split('\n');
  const tables: ListedTable[] = [];
  let i = 0;
  while (i < lines.length) {
    const header = /^table (\S+) (\S+) \{$/.exec(lines[i] as string);
    i++;
    if (!header) continue;
    const family = header[1] as NftFamily;
    const table = header[2] as string;
    const chains: NftChain[] = [];
    const sets: (NftSet | NftMap)[] = [];
    const elements: NftElement[] = [];
    const rules: NftRule[] = [];
    let tableComment: string | undefined;
    while (i < lines.length && lines[i] !== '}') {
      const line = (lines[i] as string).trim();
      i++;
      if (line.startsWith('comment ')) {
        tableComment = unquote(line.slice('comment '.length));
        continue;
      }
      const block = /^(set|map|chain) (\S+) \{$/.exec(line);
      if (!block) continue;
      const [, kind, name] = block as unknown as [string, 'set' | 'map' | 'chain', string];
      const body: string[] = [];
      while (i < lines.length && (lines[i] as string).trim() !== '}') {
        body.push((lines[i] as string).trim());
        i++;
      }
      i++;
      if (kind === 'chain') {
        const chain: NftChain = { kind: 'chain', name };
        for (const entry of body) {
          if (entry === '') continue;
          if (entry.startsWith('comment ')) chain.comment = unquote(entry.slice('comment '.length));
          else if (entry.startsWith('type ')) {
            const m = /^type (\S+) hook (\S+)(?: device "([^"]+)")? priority (.+?); policy (\S+);$/.exec(
              entry,
            );
            if (!m) throw new Error(`chain ${name}: cannot read ${entry}`);
            chain.type = m[1] as BaseChainType;
            chain.hook = m[2] as BaseChainHook;
            if (m[3] !== undefined) chain.device = m[3];
            chain.priority = /^-?\d+$/.test(m[4] as string) ? Number(m[4]) : (m[4] as string);
            chain.policy = m[5] as 'accept' | 'drop';
          } else {
            const ruleComment = / comment ("(?:[^"\\]|\\.)*")$/.exec(entry);
            rules.push({
              kind: 'rule',
              chain: name,
              rule: ruleComment ? entry.slice(0, ruleComment.index) : entry,
              ...(ruleComment ? { comment: unquote(ruleComment[1] as string) } : {}),
            });
          }
        }
        chains.push(chain);
        continue;
      }
      const text = body.join(' ');
      const typeMatch = /(?:^| )type (.+?)(?= (?:size|flags|timeout|comment|elements) |$)/.exec(text);
      if (!typeMatch) throw new Error(`${kind} ${name}: no type in ${text}`);
      const [keyType, valueType] = (typeMatch[1] as string).split(' : ');
      const set: NftSet = { kind: 'set', name, type: (keyType as string).trim() };
      const size = /(?:^| )size (\d+)/.exec(text);
      if (size) set.size = Number(size[1]);
      const flags = /(?:^| )flags (\S+)/.exec(text);
      if (flags) set.flags = (flags[1] as string).split(',') as NftSet['flags'];
      const timeout = /(?:^| )timeout (\S+)/.exec(text.replace(/elements = \{.*\}/, ''));
      if (timeout) set.timeout = timeout[1];
      const comment = /(?:^| )comment ("(?:[^"\\]|\\.)*")(?= elements|$)/.exec(text);
      if (comment) set.comment = unquote(comment[1] as string);
      sets.push(kind === 'map' ? { ...set, kind: 'map', valueType: (valueType as string).trim() } : set);
      const elementBlock = /elements = \{ (.*) \}$/.exec(text);
      if (elementBlock)
        for (const element of splitTopLevel(elementBlock[1] as string))
          elements.push(parseElement(name, element, kind === 'map'));
    }
    i++;
    const tx = new NftTransaction().add({
      kind: 'table',
      ...(tableComment !== undefined ? { comment: tableComment } : {}),
    });
    for (const chain of chains) tx.add(chain);
    for (const set of sets) tx.add(set);
    for (const element of elements) tx.add(element);
    for (const rule of rules) tx.add(rule);
    tables.push({ family, table, transaction: tx, ruleCount: rules.length, elementCount: elements.length });
  }
  return tables;
}
