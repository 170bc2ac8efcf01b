import { ParseError } from '../errors';
import type {
  BaseChainHook,
  BaseChainType,
  NftChain,
  NftElement,
  NftFamily,
  NftMap,
  NftObject,
  NftSet,
} from './model';
import { NftTransaction, type NftVerb } from './transaction';

const verbs = new Set<NftVerb>(['add', 'create', 'insert', 'replace', 'flush', 'delete', 'destroy']);

function unquote(text: string): string {
  return text.startsWith('"') ? text.slice(1, -1).replace(/\\(["\\])/g, '$1') : text;
}

/** Split on `sep` outside double quotes and braces. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth--;
    else if (!quoted && depth === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** `{ a ; b ; }` → ['a', 'b'] */
function bodyClauses(body: string | undefined): string[] {
  if (!body) return [];
  return splitTop(body.replace(/^\{\s*/, '').replace(/\s*\}$/, ''), ';');
}

const trailingComment = /\s+comment ("(?:[^"\\]|\\.)*")$/;

function parseElementText(container: string, text: string): NftElement {
  const [keyPart, ...valueParts] = splitTop(text, ' : ');
  let key = keyPart ?? '';
  let comment: string | undefined;
  let timeout: string | undefined;
  const c = trailingComment.exec(key);
  if (c) {
    comment = unquote(c[1]!);
    key = key.slice(0, c.index);
  }
  const t = /\s+timeout (\S+)$/.exec(key);
  if (t) {
    timeout = t[1]!;
    key = key.slice(0, t.index);
  }
  const value = valueParts.join(' : ');
  return {
    kind: 'element',
    container,
    key: key.split(' . ').map((k) => k.trim()),
    ...(value ? { value: value.split(' . ').map((v) => v.trim()) } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(comment !== undefined ? { comment } : {}),
  };
}

/**
 * Parse an `nft -f` script in the form renderScript writes (one command per line, names
 * unquoted) into a transaction on `family table`; commands on other tables are an error.
 */
export function parseScript(script: string, family: NftFamily, table: string): NftTransaction {
  const tx = new NftTransaction();
  const lines = script.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fail = (reason: string): never => {
      throw new ParseError(index + 1, line, reason);
    };
    const m = /^(\w+) (table|chain|rule|set|map|element) (\w+) (\S+)(?: (.*))?$/.exec(line);
    if (!m) fail('not an nft command');
    const [, verbText, kind, fam, tableName, rest = ''] = m!;
    const verb = verbText as NftVerb;
    if (!verbs.has(verb)) fail(`unknown verb ${verbText}`);
    if (fam !== family || tableName !== table) fail(`not table ${family} ${table}`);
    let object: NftObject;
    if (kind === 'table') {
      const comment = /comment ("(?:[^"\\]|\\.)*")/.exec(rest);
      object = { kind: 'table', ...(comment ? { comment: unquote(comment[1]!) } : {}) };
    } else if (kind === 'chain') {
      const [, name = '', body] = /^(\S+)(?: (\{.*\}))?$/.exec(rest) ?? fail('bad chain');
      const chain: NftChain = { kind: 'chain', name };
      for (const clause of bodyClauses(body)) {
        const base = /^type (\w+) hook (\w+)(?: device ("[^"]*"|\S+))? priority (.+)$/.exec(clause);
        if (base) {
          chain.type = base[1] as BaseChainType;
          chain.hook = base[2] as BaseChainHook;
          if (base[3]) chain.device = unquote(base[3]);
          const prio = base[4]!.trim();
          chain.priority = /^-?\d+$/.test(prio) ? Number(prio) : prio;
        } else if (clause.startsWith('policy ')) chain.policy = clause.slice(7) as 'accept' | 'drop';
        else if (clause.startsWith('comment ')) chain.comment = unquote(clause.slice(8));
        else fail(`unknown chain clause ${clause}`);
      }
      object = chain;
    } else if (kind === 'set' || kind === 'map') {
      const [, name = '', body] = /^(\S+)(?: (\{.*\}))?$/.exec(rest) ?? fail(`bad ${kind}`);
      const set: { kind: 'set' | 'map'; name: string } & Partial<Omit<NftMap, 'kind'>> = { kind, name };
      for (const clause of bodyClauses(body)) {
        if (clause.startsWith('type ') || clause.startsWith('typeof ')) {
          const isTypeof = clause.startsWith('typeof ');
          if (isTypeof) set.typeof = true;
          const [type, valueType] = clause.slice(isTypeof ? 7 : 5).split(' : ');
          set.type = type!.trim();
          if (valueType) set.valueType = valueType.trim();
        } else if (clause.startsWith('flags ')) set.flags = clause.slice(6).split(',') as NftSet['flags'];
        else if (clause.startsWith('timeout ')) set.timeout = clause.slice(8);
        else if (clause.startsWith('size ')) set.size = Number(clause.slice(5));
        else if (clause.startsWith('comment ')) set.comment = unquote(clause.slice(8));
        else fail(`unknown ${kind} clause ${clause}`);
      }
      if (!set.type) fail(`${kind} without type`);
      object = set as unknown as NftSet | NftMap;
    } else if (kind === 'element') {
      const [, name = '', body = ''] = /^(\S+) \{ (.*) \}$/.exec(rest) ?? fail('bad element list');
      for (const item of splitTop(body, ', '))
        tx.operations.push({ verb, object: parseElementText(name, item) });
      continue;
    } else {
      const [, chain = '', tail = ''] = /^(\S+) (.*)$/.exec(rest) ?? fail('bad rule');
      let body = tail;
      let handle: number | undefined;
      let position: number | undefined;
      const h = /^handle (\d+)\s*(.*)$/.exec(body);
      if (h) {
        handle = Number(h[1]);
        body = h[2]!;
      }
      const p = /^position (\d+) (.*)$/.exec(body);
      if (p) {
        position = Number(p[1]);
        body = p[2]!;
      }
      let comment: string | undefined;
      const c = trailingComment.exec(body);
      if (c) {
        comment = unquote(c[1]!);
        body = body.slice(0, c.index);
      }
      object = {
        kind: 'rule',
        chain,
        rule: body,
        ...(comment !== undefined ? { comment } : {}),
        ...(handle !== undefined ? { handle } : {}),
        ...(position !== undefined ? { position } : {}),
      };
    }
    tx.operations.push({ verb, object });
  }
  return tx;
}
