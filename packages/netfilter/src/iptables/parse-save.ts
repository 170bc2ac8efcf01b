import { KNOWN_EXTENSION_TARGETS } from './builtins';
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
import { RuleSyntaxError, readRestore } from './restore-reader';

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

/** A token groupOptions reads as an option's value (not an option, not a negation). */
const isValue = (token: string) => token !== '!' && !token.startsWith('--');

/**
 * The modules every kube-proxy rule carries, in the exact shape iptables-save prints them, read
 * without grouping options; undefined: interpretModule's general path decides.
 */
function commonModule(module: string, args: readonly string[]): Match | undefined {
  // `-m tcp` alone (every endpoint's DNAT rule): kept as the module, as the general path does.
  if (args.length === 0 && (module === 'tcp' || module === 'udp' || module === 'sctp'))
    return { kind: 'module', module, args };
  if (module === 'comment' && args.length === 2 && args[0] === '--comment' && isValue(args[1]!))
    return { kind: 'comment', comment: args[1]! };
  if (
    module === 'statistic' &&
    args.length === 4 &&
    args[0] === '--mode' &&
    args[1] === 'random' &&
    args[2] === '--probability' &&
    isValue(args[3]!)
  )
    return { kind: 'statistic', mode: 'random', probability: parseNumber(args[3]!) };
  return undefined;
}

function interpretModule(module: string, args: readonly string[]): Match {
  const common = commonModule(module, args);
  if (common) return common;
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

/**
 * Targets without options and `DNAT --to-destination X` (one per endpoint), read without
 * grouping options; undefined: interpretTarget's general path decides.
 */
function commonTarget(name: string, args: readonly string[]): Target | undefined {
  if (args.length === 2 && name === 'DNAT' && args[0] === '--to-destination' && isValue(args[1]!))
    return { kind: 'dnat', toDestination: args[1]! };
  if (args.length !== 0) return undefined;
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
      return { kind: 'verdict', verdict: name };
    case 'REJECT':
      return { kind: 'reject' };
    case 'MASQUERADE':
      return { kind: 'masquerade' };
    case 'DNAT':
    case 'SNAT':
    case 'MARK':
      return { kind: 'extension', name, args };
    default:
      return KNOWN_EXTENSION_TARGETS.has(name)
        ? { kind: 'extension', name, args }
        : { kind: 'jump', chain: name };
  }
}

function interpretTarget(name: string, args: readonly string[], isGoto: boolean): Target {
  if (isGoto) {
    if (args.length > 0) throw new RuleSyntaxError('goto takes no options');
    return { kind: 'jump', chain: name, goto: true };
  }
  const common = commonTarget(name, args);
  if (common) return common;
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

/**
 * Parse the arguments of one rule (everything after `-A CHAIN`, from `tokens[start]` on). A full
 * sync parses hundreds of thousands of rules: no option objects or spreads on the common paths.
 */
export function parseRuleArgs(tokens: readonly string[], start = 0): Rule {
  const matches: Match[] = [];
  let target: Target | undefined;
  let i = start;
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
      matches.push(basicMatch(basic, value, negate));
      continue;
    }
    if (negate) throw new RuleSyntaxError(`"!" before ${flag}`);
    if (flag === '-m' || flag === '--match') {
      const module = tokens[i++];
      if (module === undefined) throw new RuleSyntaxError('-m needs a module');
      const from = i;
      while (i < tokens.length) {
        const t = tokens[i]!;
        if (clauseStarts.has(t) || (t === '!' && clauseStarts.has(tokens[i + 1] ?? ''))) break;
        i++;
      }
      matches.push(interpretModule(module, tokens.slice(from, i)));
      continue;
    }
    if (flag === '-j' || flag === '--jump' || flag === '-g' || flag === '--goto') {
      const name = tokens[i++];
      if (name === undefined) throw new RuleSyntaxError(`${flag} needs a target`);
      const args = i === tokens.length ? NO_ARGS : tokens.slice(i);
      i = tokens.length;
      target = interpretTarget(name, args, flag === '-g' || flag === '--goto');
      continue;
    }
    throw new RuleSyntaxError(`unsupported option ${flag}`);
  }
  return target ? { matches, target } : { matches };
}

const NO_ARGS: readonly string[] = Object.freeze([]);

/** `-p`, `-s`, `-d`, `-i`, `-o` with its value (`negate` only when set, as the model prints it). */
function basicMatch(
  kind: 'protocol' | 'source' | 'destination' | 'in-interface' | 'out-interface',
  value: string,
  negate: boolean,
): Match {
  if (kind === 'protocol')
    return negate ? { kind, protocol: value as Protocol, negate } : { kind, protocol: value as Protocol };
  if (kind === 'source' || kind === 'destination')
    return negate ? { kind, address: value, negate } : { kind, address: value };
  return negate ? { kind, name: value, negate } : { kind, name: value };
}

/**
 * Parse iptables-save output (or a restore payload) into a Ruleset. `-X` lines become
 * deleteChains; comment lines and counters are ignored.
 */
export function parseSave(text: string, family: IpFamily = 'ipv4'): Ruleset {
  const tables: Table[] = [];
  let name: TableName = 'filter';
  let chains = new Map<string, { name: string; policy?: ChainPolicy; rules: Rule[] }>();
  let deleteChains: string[] = [];
  readRestore(text, {
    table(table) {
      name = table;
      chains = new Map();
      deleteChains = [];
    },
    chain(chain, policy) {
      chains.set(chain, policy ? { name: chain, policy, rules: [] } : { name: chain, rules: [] });
    },
    deleteChain(chain) {
      deleteChains.push(chain);
      chains.delete(chain);
    },
    rule(chain, tokens) {
      chains.get(chain)?.rules.push(parseRuleArgs(tokens, 2));
    },
    commit() {
      tables.push({
        name,
        chains: [...chains.values()],
        ...(deleteChains.length > 0 ? { deleteChains } : {}),
      });
    },
  });
  return { family, tables };
}
