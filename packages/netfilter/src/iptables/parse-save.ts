import { ParseError } from '../errors';
import { BUILTIN_CHAINS, KNOWN_EXTENSION_TARGETS, TABLE_NAMES } from './builtins';
import type {
  AddrType,
  ChainPolicy,
  ConntrackState,
  IpFamily,
  Match,
  PortSpec,
  Protocol,
  Rule,
  Ruleset,
  Table,
  TableName,
  Target,
} from './model';
import { splitTokens } from './quoting';

const basicFlags = new Map<string, 'protocol' | 'source' | 'destination' | 'in-interface' | 'out-interface'>([
  ['-p', 'protocol'],
  ['--protocol', 'protocol'],
  ['-s', 'source'],
  ['--source', 'source'],
  ['--src', 'source'],
  ['-d', 'destination'],
  ['--destination', 'destination'],
  ['--dst', 'destination'],
  ['-i', 'in-interface'],
  ['--in-interface', 'in-interface'],
  ['-o', 'out-interface'],
  ['--out-interface', 'out-interface'],
]);

const clauseStarts = new Set([...basicFlags.keys(), '-m', '--match', '-j', '--jump', '-g', '--goto']);

/** Thrown inside the rule parser; converted to a ParseError with the line. */
class RuleSyntaxError extends Error {}

function parsePort(text: string): PortSpec {
  const parts = text.split(':');
  const nums = parts.map((p) => Number(p));
  if (nums.some((n) => !Number.isInteger(n)) || nums.length > 2)
    throw new RuleSyntaxError(`bad port ${text}`);
  return nums.length === 2 ? [nums[0]!, nums[1]!] : nums[0]!;
}

function parseNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value)) throw new RuleSyntaxError(`bad number ${text}`);
  return value;
}

function parseMarkValue(text: string): { value: number; mask?: number } {
  const [value, mask] = text.split('/');
  return mask === undefined
    ? { value: parseNumber(value!) }
    : { value: parseNumber(value!), mask: parseNumber(mask) };
}

/** Module options as (negated, option, values) triples; undefined if the shape is unexpected. */
interface ModuleOption {
  negate: boolean;
  option: string;
  values: string[];
}

function groupOptions(args: readonly string[]): ModuleOption[] | undefined {
  const options: ModuleOption[] = [];
  let negate = false;
  for (const arg of args) {
    if (arg === '!') {
      negate = true;
    } else if (arg.startsWith('--')) {
      options.push({ negate, option: arg, values: [] });
      negate = false;
    } else {
      const last = options[options.length - 1];
      if (!last) return undefined;
      last.values.push(arg);
    }
  }
  return negate ? undefined : options;
}

function interpretModule(module: string, args: readonly string[]): Match {
  const fallback: Match = { kind: 'module', module, args };
  const options = groupOptions(args);
  if (!options) return fallback;
  const single = (o: ModuleOption) => (o.values.length === 1 ? o.values[0]! : undefined);
  switch (module) {
    case 'tcp':
    case 'udp':
    case 'sctp': {
      const match: Match & { kind: 'port' } = { kind: 'port', protocol: module };
      if (options.length === 0) return fallback;
      for (const o of options) {
        const v = single(o);
        if (v === undefined) return fallback;
        if (o.option === '--sport' || o.option === '--source-port') {
          match.sourcePort = parsePort(v);
          if (o.negate) match.negateSource = true;
        } else if (o.option === '--dport' || o.option === '--destination-port') {
          match.destinationPort = parsePort(v);
          if (o.negate) match.negateDestination = true;
        } else return fallback;
      }
      return match;
    }
    case 'multiport': {
      const o = options[0];
      const v = o && single(o);
      if (options.length !== 1 || v === undefined) return fallback;
      const direction =
        o!.option === '--dports' || o!.option === '--destination-ports'
          ? 'destination'
          : o!.option === '--sports' || o!.option === '--source-ports'
            ? 'source'
            : undefined;
      if (!direction) return fallback;
      return {
        kind: 'multiport',
        direction,
        ports: v.split(',').map(parsePort),
        ...(o!.negate ? { negate: true } : {}),
      };
    }
    case 'comment': {
      const o = options[0];
      if (options.length !== 1 || o?.option !== '--comment' || o.values.length !== 1) return fallback;
      return { kind: 'comment', comment: o.values[0]! };
    }
    case 'statistic': {
      const byName = new Map(options.map((o) => [o.option, single(o)]));
      if (byName.get('--mode') === 'random' && byName.has('--probability') && options.length === 2) {
        return { kind: 'statistic', mode: 'random', probability: parseNumber(byName.get('--probability')!) };
      }
      if (byName.get('--mode') === 'nth' && byName.has('--every')) {
        return {
          kind: 'statistic',
          mode: 'nth',
          every: parseNumber(byName.get('--every')!),
          packet: parseNumber(byName.get('--packet') ?? '0'),
        };
      }
      return fallback;
    }
    case 'recent': {
      const match: Partial<Match & { kind: 'recent' }> = { kind: 'recent' };
      for (const o of options) {
        const name = o.option.slice(2);
        if (name === 'set' || name === 'rcheck' || name === 'update' || name === 'remove') {
          match.action = name;
          if (o.negate) match.negate = true;
        } else if (name === 'name') match.name = single(o);
        else if (name === 'seconds') match.seconds = parseNumber(single(o) ?? '');
        else if (name === 'hitcount') match.hitcount = parseNumber(single(o) ?? '');
        else if (name === 'reap') match.reap = true;
        else if (name === 'rsource') match.side = 'source';
        else if (name === 'rdest') match.side = 'destination';
        // iptables-save always prints the default all-ones mask; any other mask is not modelled.
        else if (name === 'mask' && /^(255\.255\.255\.255|ffff(:ffff){7})$/.test(single(o) ?? '')) continue;
        else return fallback;
      }
      if (!match.action || match.name === undefined) return fallback;
      return match as Match;
    }
    case 'addrtype': {
      const match: Match & { kind: 'addrtype' } = { kind: 'addrtype' };
      for (const o of options) {
        const v = single(o) as AddrType | undefined;
        if (v === undefined) return fallback;
        if (o.option === '--src-type') {
          match.sourceType = v;
          if (o.negate) match.negateSource = true;
        } else if (o.option === '--dst-type') {
          match.destinationType = v;
          if (o.negate) match.negateDestination = true;
        } else return fallback;
      }
      return match;
    }
    case 'conntrack': {
      const o = options[0];
      const v = o && single(o);
      if (options.length !== 1 || o?.option !== '--ctstate' || v === undefined) return fallback;
      return {
        kind: 'conntrack',
        states: v.split(',') as ConntrackState[],
        ...(o.negate ? { negate: true } : {}),
      };
    }
    case 'mark': {
      const o = options[0];
      const v = o && single(o);
      if (options.length !== 1 || o?.option !== '--mark' || v === undefined) return fallback;
      return { kind: 'mark', ...parseMarkValue(v), ...(o.negate ? { negate: true } : {}) };
    }
    case 'set': {
      const o = options[0];
      if (options.length !== 1 || o?.option !== '--match-set' || o.values.length !== 2) return fallback;
      const flags = o.values[1]!.split(',');
      if (!flags.every((f) => f === 'src' || f === 'dst')) return fallback;
      return {
        kind: 'set',
        name: o.values[0]!,
        flags: flags as ('src' | 'dst')[],
        ...(o.negate ? { negate: true } : {}),
      };
    }
    default:
      return fallback;
  }
}

function interpretTarget(name: string, args: readonly string[], isGoto: boolean): Target {
  if (isGoto) {
    if (args.length > 0) throw new RuleSyntaxError('goto takes no options');
    return { kind: 'jump', chain: name, goto: true };
  }
  const options = groupOptions(args) ?? [];
  const byName = new Map(options.map((o) => [o.option, o.values[0]]));
  const has = (option: string) => byName.has(option);
  const extension: Target = { kind: 'extension', name, args };
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      return { kind: 'verdict', verdict: name };
    case 'REJECT':
      return byName.get('--reject-with')
        ? { kind: 'reject', with: byName.get('--reject-with')! }
        : { kind: 'reject' };
    case 'DNAT': {
      const to = byName.get('--to-destination');
      if (!to) return extension;
      return {
        kind: 'dnat',
        toDestination: to,
        ...(has('--random') ? { random: true } : {}),
        ...(has('--persistent') ? { persistent: true } : {}),
      };
    }
    case 'SNAT': {
      const to = byName.get('--to-source');
      if (!to) return extension;
      return {
        kind: 'snat',
        toSource: to,
        ...(has('--random') ? { random: true } : {}),
        ...(has('--random-fully') ? { randomFully: true } : {}),
        ...(has('--persistent') ? { persistent: true } : {}),
      };
    }
    case 'MASQUERADE': {
      const ports = byName.get('--to-ports');
      return {
        kind: 'masquerade',
        ...(ports ? { toPorts: parsePort(ports.replace('-', ':')) } : {}),
        ...(has('--random') ? { random: true } : {}),
        ...(has('--random-fully') ? { randomFully: true } : {}),
      };
    }
    case 'MARK': {
      const [o] = options;
      const v = o?.values[0];
      if (options.length !== 1 || v === undefined) return extension;
      if (o!.option === '--set-xmark' || (o!.option === '--set-mark' && v.includes('/'))) {
        const { value, mask } = parseMarkValue(v);
        // --set-mark v/m means "zero the mask bits then OR v": the same as --set-xmark v/(m).
        return { kind: 'mark', op: 'xset', value, mask: mask ?? 0xffffffff };
      }
      const op = o!.option.replace(/^--/, '').replace(/-mark$/, '');
      if (op === 'or' || op === 'xor' || op === 'and' || op === 'set')
        return { kind: 'mark', op, value: parseNumber(v) };
      return extension;
    }
    default:
      if (KNOWN_EXTENSION_TARGETS.has(name) || args.length > 0) return extension;
      return { kind: 'jump', chain: name };
  }
}

/** Parse the arguments of one rule (everything after `-A CHAIN`). */
export function parseRuleArgs(tokens: readonly string[]): Rule {
  const matches: Match[] = [];
  let target: Target | undefined;
  let i = 0;
  while (i < tokens.length) {
    let negate = false;
    if (tokens[i] === '!') {
      negate = true;
      i++;
    }
    const flag = tokens[i++];
    if (flag === undefined) throw new RuleSyntaxError('dangling "!"');
    const basic = basicFlags.get(flag);
    if (basic) {
      const value = tokens[i++];
      if (value === undefined) throw new RuleSyntaxError(`${flag} needs a value`);
      if (basic === 'protocol')
        matches.push({ kind: 'protocol', protocol: value as Protocol, ...(negate ? { negate } : {}) });
      else if (basic === 'source' || basic === 'destination') {
        matches.push({ kind: basic, address: value, ...(negate ? { negate } : {}) });
      } else matches.push({ kind: basic, name: value, ...(negate ? { negate } : {}) });
      continue;
    }
    if (negate) throw new RuleSyntaxError(`"!" before ${flag}`);
    if (flag === '-m' || flag === '--match') {
      const module = tokens[i++];
      if (module === undefined) throw new RuleSyntaxError('-m needs a module');
      const args: string[] = [];
      while (i < tokens.length) {
        const t = tokens[i]!;
        if (clauseStarts.has(t) || (t === '!' && clauseStarts.has(tokens[i + 1] ?? ''))) break;
        args.push(t);
        i++;
      }
      matches.push(interpretModule(module, args));
      continue;
    }
    if (flag === '-j' || flag === '--jump' || flag === '-g' || flag === '--goto') {
      const name = tokens[i++];
      if (name === undefined) throw new RuleSyntaxError(`${flag} needs a target`);
      const args = tokens.slice(i);
      i = tokens.length;
      target = interpretTarget(name, args, flag === '-g' || flag === '--goto');
      continue;
    }
    throw new RuleSyntaxError(`unsupported option ${flag}`);
  }
  return target ? { matches, target } : { matches };
}

interface TableBuilder {
  name: TableName;
  chains: Map<string, { name: string; policy?: ChainPolicy; rules: Rule[] }>;
  deleteChains: string[];
}

/**
 * Parse iptables-save output (or a restore payload) into a Ruleset. `-X` lines become
 * deleteChains; comment lines and counters are ignored.
 */
export function parseSave(text: string, family: IpFamily = 'ipv4'): Ruleset {
  const tables: Table[] = [];
  let current: TableBuilder | undefined;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    const lineNumber = index + 1;
    if (line === '' || line.startsWith('#')) continue;
    const fail = (reason: string): never => {
      throw new ParseError(lineNumber, line, reason);
    };
    if (line.startsWith('*')) {
      if (current) fail('table started before COMMIT');
      const name = line.slice(1) as TableName;
      if (!TABLE_NAMES.includes(name)) fail('unknown table');
      current = { name, chains: new Map(), deleteChains: [] };
      continue;
    }
    if (!current) return fail('line outside a table');
    const table = current;
    if (line === 'COMMIT') {
      tables.push({
        name: table.name,
        chains: [...table.chains.values()],
        ...(table.deleteChains.length > 0 ? { deleteChains: table.deleteChains } : {}),
      });
      current = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name || !policy) fail('bad chain line');
      const builtin = BUILTIN_CHAINS[table.name].includes(name!);
      if (builtin && policy !== 'ACCEPT' && policy !== 'DROP') fail('bad policy');
      table.chains.set(name!, {
        name: name!,
        ...(builtin ? { policy: policy as ChainPolicy } : {}),
        rules: [],
      });
      continue;
    }
    const tokens = splitTokens(line);
    if (!tokens) return fail('unterminated quote');
    const [command, chainName, ...args] = tokens;
    if (command === '-X' && chainName) {
      table.deleteChains.push(chainName);
      table.chains.delete(chainName);
      continue;
    }
    if ((command !== '-A' && command !== '--append') || !chainName) fail('expected -A CHAIN');
    const chain = table.chains.get(chainName!);
    if (!chain) return fail(`rule for undeclared chain ${chainName}`);
    try {
      chain.rules.push(parseRuleArgs(args));
    } catch (error) {
      if (error instanceof RuleSyntaxError) fail(error.message);
      throw error;
    }
  }
  if (current) throw new ParseError(lines.length, '', `table ${current.name} has no COMMIT`);
  return { family, tables };
}
