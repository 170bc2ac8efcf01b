// The rule compiler's oracle: the same rules checked by `nft --debug=netlink -c` inside a
// throwaway network namespace, whose bytecode listing is compared line for line with our
// compiled expressions — encoded to netlink bytes, decoded back and printed the same way.

import type { Netns } from '@nodeagent/testing';
import type { NftFamily, NftMap, NftOperation, NftSet } from '../../src/nftables/index';
import { encodeKey, encodeValue, keyLength } from '../../src/nftables/netlink/data-types';
import {
  type AnonymousSet,
  anonymousSetDebugLines,
  compileRule,
  debugLines,
  decodeExpressions,
  elementDebugText,
  type NetlinkSetInfo,
  newRuleBatch,
  ruleCommentUserdata,
  typeofToType,
} from '../../src/nftables/netlink/rule/index';
import { renderScript } from '../../src/nftables/render-script';

/** One rule as nft printed it: its chain, expression lines, and the anonymous sets before it. */
export interface NftRuleBytecode {
  chain: string;
  lines: string[];
  anonymousSets: string[][];
}

/** Parse `nft --debug=netlink` output into the rules' bytecode blocks, in script order. */
export function parseDebugOutput(output: string, family: NftFamily, table: string): NftRuleBytecode[] {
  const rules: NftRuleBytecode[] = [];
  let pendingSets: string[][] = [];
  let current: NftRuleBytecode | undefined;
  const lines = output.split('\n');
  const header = `${family} ${table} `;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (current && line.startsWith('  [')) {
      current.lines.push(line);
      continue;
    }
    current = undefined;
    if (/^__(set|map)%d /.test(line) && / size \d+$/.test(line)) {
      pendingSets.push([line, lines[i + 1] ?? '', lines[i + 2] ?? '']);
      i += 2;
      continue;
    }
    if (line.startsWith(header) && !line.includes('(null)')) {
      current = { chain: line.slice(header.length), lines: [], anonymousSets: pendingSets };
      pendingSets = [];
      rules.push(current);
    }
  }
  return rules;
}

function setInfo(object: NftSet | NftMap): NetlinkSetInfo {
  const info: NetlinkSetInfo = {
    name: object.name,
    keyType: object.type,
    keyLength: object.typeof ? 0 : keyLength(object.type),
    flags: object.kind === 'map' ? 0x8 : 0,
  };
  if (object.kind === 'map') info.valueType = object.valueType;
  return info;
}

export interface CompiledRuleText {
  chain: string;
  rule: string;
  lines: string[];
  anonymousSets: string[][];
}

/** Compile every rule of the operations as the client would (sets known from the same operations). */
export function compileOperations(
  family: NftFamily,
  table: string,
  operations: readonly NftOperation[],
  resolveInterface?: (name: string) => number | undefined,
): CompiledRuleText[] {
  const sets = new Map<string, NetlinkSetInfo>();
  for (const op of operations)
    if (op.object.kind === 'set' || op.object.kind === 'map') sets.set(op.object.name, setInfo(op.object));
  let nextId = 1;
  const batch = newRuleBatch();
  const out: CompiledRuleText[] = [];
  for (const op of operations) {
    if (op.object.kind !== 'rule' || (op.verb !== 'add' && op.verb !== 'insert')) continue;
    const rule = op.object;
    const compiled = compileRule({
      family,
      table,
      chain: rule.chain,
      rule: rule.rule,
      sets,
      batch,
      ...(resolveInterface ? { resolveInterface } : {}),
      allocateSet: (kind) => ({ name: kind === 'map' ? '__map%d' : '__set%d', setId: nextId++ }),
    });
    out.push({
      chain: rule.chain,
      rule: rule.rule,
      lines: debugLines(decodeExpressions(compiled.expressions)),
      anonymousSets: compiled.anonymousSets.map((s: AnonymousSet) => anonymousSetDebugLines(s, table)),
    });
  }
  return out;
}

/** nft's bytecode for the operations' rules, checked (not applied) inside `netns`. */
export async function nftBytecode(
  netns: Netns,
  family: NftFamily,
  table: string,
  operations: readonly NftOperation[],
): Promise<{ rules: NftRuleBytecode[]; elements: Map<string, string[]> }> {
  const script = renderScript(family, table, operations, { emulateDestroy: false });
  const result = await netns.exec('nft', ['--debug=netlink', '-c', '-f', '-'], {
    input: script,
    timeoutMs: 300_000,
  });
  const sets = new Set<string>();
  for (const op of operations)
    if (op.object.kind === 'set' || op.object.kind === 'map') sets.add(op.object.name);
  return {
    rules: parseDebugOutput(result.stdout, family, table),
    elements: parseElementOutput(result.stdout, table, sets),
  };
}

export interface OracleComparison {
  rules: number;
  identical: number;
  mismatches: { chain: string; rule: string; ours: string[]; nft: string[] }[];
}

/** Compare our compilation of each rule with nft's, expression lines and anonymous sets. */
export function compareWithNft(
  ours: readonly CompiledRuleText[],
  nft: readonly NftRuleBytecode[],
): OracleComparison {
  const mismatches: OracleComparison['mismatches'] = [];
  if (ours.length !== nft.length)
    throw new Error(
      `nft printed ${nft.length} rules, we compiled ${ours.length}: the oracle output did not parse`,
    );
  ours.forEach((o, i) => {
    const n = nft[i] as NftRuleBytecode;
    const mine = [...o.anonymousSets.flat(), ...o.lines];
    const theirs = [...n.anonymousSets.flat(), ...n.lines];
    if (o.chain !== n.chain || mine.join('\n') !== theirs.join('\n'))
      mismatches.push({ chain: o.chain, rule: o.rule, ours: mine, nft: theirs });
  });
  return { rules: ours.length, identical: ours.length - mismatches.length, mismatches };
}

/** Each named set's element lines as nft printed them for the script's `add element` commands. */
export function parseElementOutput(
  output: string,
  table: string,
  sets: ReadonlySet<string>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = output.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const m = new RegExp(`^(\\S+) ${table} 0$`).exec(lines[i] as string);
    const next = lines[i + 1] as string;
    if (!m || !sets.has(m[1] as string) || !next.startsWith('\telement ')) continue;
    const list = out.get(m[1] as string) ?? [];
    list.push(
      ...next
        .split('\t')
        .filter((e) => e.length > 0)
        .map((e) => `\t${e}`),
    );
    out.set(m[1] as string, list);
    i++;
  }
  return out;
}

/** Our encoding (data-types.ts) of every added element, printed as nft prints elements. */
export function encodeElements(
  family: NftFamily,
  operations: readonly NftOperation[],
): Map<string, string[]> {
  const containers = new Map<string, NftSet | NftMap>();
  for (const op of operations)
    if (op.object.kind === 'set' || op.object.kind === 'map') containers.set(op.object.name, op.object);
  const out = new Map<string, string[]>();
  for (const op of operations) {
    if (op.object.kind !== 'element' || op.verb !== 'add') continue;
    const element = op.object;
    const container = containers.get(element.container);
    if (!container) throw new Error(`element of unknown set ${element.container}`);
    const keyType = container.typeof ? typeofToType(container.type, family) : container.type;
    const text = elementDebugText({
      key: encodeKey(keyType, element.key),
      ...(container.kind === 'map' && element.value
        ? {
            value: encodeValue(
              container.typeof ? typeofToType(container.valueType, family) : container.valueType,
              element.value,
            ),
          }
        : {}),
      ...(element.comment !== undefined ? { userdata: ruleCommentUserdata(element.comment) } : {}),
    });
    const list = out.get(element.container) ?? [];
    list.push(text);
    out.set(element.container, list);
  }
  return out;
}
