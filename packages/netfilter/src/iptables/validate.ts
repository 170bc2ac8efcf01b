import ipaddr from 'ipaddr.js';
import { InvalidFieldError, UnknownTargetError } from '../errors';
import {
  BUILTIN_CHAINS,
  isBuiltinChain,
  KNOWN_EXTENSION_TARGETS,
  MAX_CHAIN_NAME_LENGTH,
  MAX_COMMENT_LENGTH,
  MODELLED_TARGETS,
  TABLE_NAMES,
} from './builtins';
import type { IpFamily, Match, PortSpec, Ruleset, Table, Target } from './model';

/** What validation may assume exists outside the payload. */
export interface ValidateOptions {
  /**
   * Chains that already exist in the kernel and are not in the payload (a `--noflush` partial
   * update may jump to them), per table.
   */
  existingChains?: Partial<Record<Table['name'], Iterable<string>>>;
  /**
   * Built-in hooks that reach a user chain through rules outside the payload (e.g. a jump from
   * PREROUTING installed separately), so hook-restricted targets are checked against them.
   */
  entryPoints?: Partial<Record<Table['name'], Record<string, readonly string[]>>>;
}

const protocols = new Set(['tcp', 'udp', 'sctp', 'icmp', 'ipv6-icmp', 'icmpv6', 'all']);
const conntrackStates = new Set(['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT']);
const addrTypes = new Set([
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
]);
const rejectWith: Record<IpFamily, Set<string>> = {
  ipv4: new Set([
    'icmp-net-unreachable',
    'icmp-host-unreachable',
    'icmp-port-unreachable',
    'icmp-proto-unreachable',
    'icmp-net-prohibited',
    'icmp-host-prohibited',
    'icmp-admin-prohibited',
    'tcp-reset',
  ]),
  ipv6: new Set([
    'icmp6-no-route',
    'no-route',
    'icmp6-adm-prohibited',
    'adm-prohibited',
    'icmp6-addr-unreachable',
    'addr-unreach',
    'icmp6-port-unreachable',
    'port-unreach',
    'tcp-reset',
  ]),
};
// Hooks where the kernel allows each hook-restricted target (x_tables `.hooks`), and its table.
const targetRules: Record<string, { table: Table['name']; hooks: readonly string[] }> = {
  dnat: { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] },
  snat: { table: 'nat', hooks: ['POSTROUTING', 'INPUT'] },
  masquerade: { table: 'nat', hooks: ['POSTROUTING'] },
  reject: { table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT'] },
};
const singleBasicMatches = new Set(['protocol', 'source', 'destination', 'in-interface', 'out-interface']);
const chainNamePattern = /^[A-Za-z0-9_.:@+=-]+$/;
const interfacePattern = /^[A-Za-z0-9_.:@-]{1,15}\+?$|^\+$/;
const modulePattern = /^[a-z0-9_-]+$/;

const ipv4Pattern = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

// Hand-rolled for IPv4 and family-specific for IPv6: the generic ipaddr.parse tries IPv6 first
// and throws on every IPv4 address, which dominated validating a 10k-Service ruleset.
function isAddress(text: string, family: IpFamily): boolean {
  if (family === 'ipv4') {
    const m = ipv4Pattern.exec(text);
    return m !== null && Number(m[1]) < 256 && Number(m[2]) < 256 && Number(m[3]) < 256 && Number(m[4]) < 256;
  }
  return /^[0-9a-fA-F:.]+$/.test(text) && text.includes(':') && ipaddr.IPv6.isValid(text);
}

function checkAddress(field: string, value: string, family: IpFamily, allowPrefix: boolean): void {
  const slash = allowPrefix ? value.indexOf('/') : -1;
  const host = slash >= 0 ? value.slice(0, slash) : value;
  let ok = isAddress(host, family);
  if (ok && slash >= 0) {
    const prefix = value.slice(slash + 1);
    ok = /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 'ipv4' ? 32 : 128);
  }
  if (!ok)
    throw new InvalidFieldError(field, value, `is not an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} address`);
}

function checkPort(field: string, port: PortSpec, min = 0): void {
  const ports = typeof port === 'number' ? [port] : [...port];
  for (const p of ports) {
    if (!Number.isInteger(p) || p < min || p > 65535) {
      throw new InvalidFieldError(field, port, `is not a port (${min}-65535)`);
    }
  }
  if (ports.length === 2 && ports[0]! > ports[1]!)
    throw new InvalidFieldError(field, port, 'range is reversed');
}

function checkU32(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new InvalidFieldError(field, value, 'is not a 32-bit unsigned value');
  }
}

function checkToken(field: string, value: string, maxLength: number): void {
  if (value.length === 0 || value.length > maxLength || /[\n\r\0]/.test(value)) {
    throw new InvalidFieldError(field, value, `must be 1-${maxLength} characters without line breaks`);
  }
}

/** `ip[:port[-port]]`, IPv6 as `[ip]:port` or a bare address. */
function checkNatAddress(field: string, value: string, family: IpFamily): boolean {
  let host = value;
  let ports: string | undefined;
  if (family === 'ipv6') {
    const bracketed = /^\[([^\]]+)\](?::(.+))?$/.exec(value);
    if (bracketed) {
      host = bracketed[1]!;
      ports = bracketed[2];
    }
  } else {
    const colon = value.indexOf(':');
    if (colon >= 0) {
      host = value.slice(0, colon);
      ports = value.slice(colon + 1);
    }
  }
  checkAddress(field, host, family, false);
  if (ports !== undefined) {
    const range = ports.split('-').map(Number);
    if (range.length > 2) throw new InvalidFieldError(field, value, 'has a bad port range');
    checkPort(field, range.length === 2 ? [range[0]!, range[1]!] : range[0]!, 1);
  }
  return ports !== undefined;
}

function checkMatch(where: string, match: Match, family: IpFamily, protocolSoFar: string | undefined): void {
  switch (match.kind) {
    case 'protocol':
      if (!protocols.has(match.protocol))
        throw new InvalidFieldError(`${where} protocol`, match.protocol, 'is not a known protocol');
      if (family === 'ipv4' && (match.protocol === 'ipv6-icmp' || match.protocol === 'icmpv6')) {
        throw new InvalidFieldError(`${where} protocol`, match.protocol, 'is IPv6-only');
      }
      return;
    case 'source':
      checkAddress(`${where} source`, match.address, family, true);
      return;
    case 'destination':
      checkAddress(`${where} destination`, match.address, family, true);
      return;
    case 'in-interface':
    case 'out-interface':
      if (!interfacePattern.test(match.name)) {
        throw new InvalidFieldError(
          `${where} ${match.kind}`,
          match.name,
          'is not an interface name (1-15 chars, optional +)',
        );
      }
      return;
    case 'port':
      if (protocolSoFar !== match.protocol) {
        throw new InvalidFieldError(
          `${where} port`,
          match.protocol,
          `needs a preceding "-p ${match.protocol}"`,
        );
      }
      if (match.sourcePort === undefined && match.destinationPort === undefined) {
        throw new InvalidFieldError(`${where} port`, match.protocol, 'needs a source or destination port');
      }
      if (match.sourcePort !== undefined) checkPort(`${where} sourcePort`, match.sourcePort);
      if (match.destinationPort !== undefined) checkPort(`${where} destinationPort`, match.destinationPort);
      return;
    case 'multiport':
      if (protocolSoFar !== 'tcp' && protocolSoFar !== 'udp' && protocolSoFar !== 'sctp') {
        throw new InvalidFieldError(
          `${where} multiport`,
          protocolSoFar ?? null,
          'needs a preceding "-p tcp|udp|sctp"',
        );
      }
      if (match.ports.length === 0 || match.ports.length > 15) {
        throw new InvalidFieldError(`${where} ports`, match.ports, 'must list 1-15 ports');
      }
      for (const port of match.ports) checkPort(`${where} ports`, port);
      return;
    case 'comment':
      checkToken(`${where} comment`, match.comment, MAX_COMMENT_LENGTH);
      return;
    case 'statistic':
      if (match.mode === 'random') {
        if (!(match.probability >= 0 && match.probability <= 1)) {
          throw new InvalidFieldError(`${where} probability`, match.probability, 'must be within [0, 1]');
        }
      } else if (
        !Number.isInteger(match.every) ||
        match.every < 1 ||
        !Number.isInteger(match.packet) ||
        match.packet < 0 ||
        match.packet >= match.every
      ) {
        throw new InvalidFieldError(
          `${where} statistic`,
          `${match.every}/${match.packet}`,
          'needs every >= 1 and 0 <= packet < every',
        );
      }
      return;
    case 'recent':
      checkToken(`${where} recent.name`, match.name, 200);
      if (/\s|\//.test(match.name))
        throw new InvalidFieldError(`${where} recent.name`, match.name, 'must not contain spaces or "/"');
      if (match.seconds !== undefined && (!Number.isInteger(match.seconds) || match.seconds < 1)) {
        throw new InvalidFieldError(`${where} recent.seconds`, match.seconds, 'must be a positive integer');
      }
      if (
        match.hitcount !== undefined &&
        (!Number.isInteger(match.hitcount) || match.hitcount < 1 || match.hitcount > 255)
      ) {
        throw new InvalidFieldError(`${where} recent.hitcount`, match.hitcount, 'must be 1-255');
      }
      if (
        (match.seconds !== undefined || match.hitcount !== undefined || match.reap) &&
        (match.action === 'set' || match.action === 'remove')
      ) {
        throw new InvalidFieldError(
          `${where} recent.action`,
          match.action,
          'cannot take seconds/hitcount/reap',
        );
      }
      if (match.reap && match.seconds === undefined)
        throw new InvalidFieldError(`${where} recent.reap`, true, 'needs seconds');
      return;
    case 'addrtype':
      if (!match.sourceType && !match.destinationType) {
        throw new InvalidFieldError(`${where} addrtype`, null, 'needs a source or destination type');
      }
      for (const t of [match.sourceType, match.destinationType]) {
        if (t !== undefined && !addrTypes.has(t))
          throw new InvalidFieldError(`${where} addrtype`, t, 'is not an address type');
      }
      return;
    case 'conntrack':
      if (match.states.length === 0)
        throw new InvalidFieldError(`${where} ctstate`, match.states, 'must not be empty');
      for (const s of match.states) {
        if (!conntrackStates.has(s))
          throw new InvalidFieldError(`${where} ctstate`, s, 'is not a conntrack state');
      }
      return;
    case 'mark':
      checkU32(`${where} mark`, match.value);
      if (match.mask !== undefined) checkU32(`${where} mark.mask`, match.mask);
      return;
    case 'set':
      checkToken(`${where} set.name`, match.name, 31);
      if (match.flags.length === 0 || match.flags.length > 6) {
        throw new InvalidFieldError(`${where} set.flags`, match.flags, 'must list 1-6 of src/dst');
      }
      return;
    case 'module':
      if (!modulePattern.test(match.module))
        throw new InvalidFieldError(`${where} module`, match.module, 'is not a module name');
      return;
  }
}

function checkTarget(where: string, target: Target, family: IpFamily, protocol: string | undefined): void {
  switch (target.kind) {
    case 'reject':
      if (target.with !== undefined && !rejectWith[family].has(target.with)) {
        throw new InvalidFieldError(`${where} reject.with`, target.with, `is not a ${family} reject type`);
      }
      if (target.with === 'tcp-reset' && protocol !== 'tcp') {
        throw new InvalidFieldError(`${where} reject.with`, target.with, 'needs "-p tcp"');
      }
      return;
    case 'dnat':
    case 'snat': {
      const field = target.kind === 'dnat' ? 'toDestination' : 'toSource';
      const value = target.kind === 'dnat' ? target.toDestination : target.toSource;
      const hasPort = checkNatAddress(`${where} ${field}`, value, family);
      if (hasPort && protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
        throw new InvalidFieldError(
          `${where} ${field}`,
          value,
          'has a port but the rule does not match -p tcp|udp|sctp',
        );
      }
      return;
    }
    case 'masquerade':
      if (target.toPorts !== undefined) {
        checkPort(`${where} toPorts`, target.toPorts, 1);
        if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
          throw new InvalidFieldError(`${where} toPorts`, target.toPorts, 'needs -p tcp|udp|sctp');
        }
      }
      return;
    case 'mark':
      checkU32(`${where} mark`, target.value);
      if (target.op === 'xset') checkU32(`${where} mark.mask`, target.mask);
      return;
    case 'extension':
      if (!KNOWN_EXTENSION_TARGETS.has(target.name))
        throw new UnknownTargetError(`${where} target`, target.name);
      return;
    default:
      return;
  }
}

/** Is `name` acceptable as a user chain name? */
export function checkChainName(field: string, name: string): void {
  if (name.length === 0 || name.length > MAX_CHAIN_NAME_LENGTH) {
    throw new InvalidFieldError(field, name, `must be 1-${MAX_CHAIN_NAME_LENGTH} characters`);
  }
  if (!chainNamePattern.test(name) || name.startsWith('-') || name.startsWith('!')) {
    throw new InvalidFieldError(field, name, 'contains characters iptables does not allow in a chain name');
  }
  if (MODELLED_TARGETS.has(name) || KNOWN_EXTENSION_TARGETS.has(name)) {
    throw new InvalidFieldError(field, name, 'clashes with a target name');
  }
}

function validateTable(table: Table, family: IpFamily, options: ValidateOptions): void {
  if (!TABLE_NAMES.includes(table.name))
    throw new InvalidFieldError('table', table.name, 'is not an iptables table');
  const declared = new Set<string>();
  for (const chain of table.chains) {
    const field = `${table.name}/${chain.name}`;
    if (declared.has(chain.name))
      throw new InvalidFieldError(`${field} name`, chain.name, 'is declared twice');
    declared.add(chain.name);
    if (isBuiltinChain(table.name, chain.name)) {
      if (chain.policy !== undefined && chain.policy !== 'ACCEPT' && chain.policy !== 'DROP') {
        throw new InvalidFieldError(`${field} policy`, chain.policy, 'must be ACCEPT or DROP');
      }
    } else {
      checkChainName(`${field} name`, chain.name);
      if (chain.policy !== undefined)
        throw new InvalidFieldError(`${field} policy`, chain.policy, 'only built-in chains have a policy');
    }
  }
  const deleting = new Set(table.deleteChains ?? []);
  for (const name of deleting) {
    if (isBuiltinChain(table.name, name))
      throw new InvalidFieldError(`${table.name} deleteChains`, name, 'is a built-in chain');
    if (declared.has(name))
      throw new InvalidFieldError(`${table.name} deleteChains`, name, 'is also declared with rules');
    checkChainName(`${table.name} deleteChains`, name);
  }
  const existing = new Set(options.existingChains?.[table.name] ?? []);
  const jumps = new Map<string, Set<string>>();
  for (const chain of table.chains) {
    const targets = new Set<string>();
    jumps.set(chain.name, targets);
    chain.rules.forEach((rule, index) => {
      const where = `${table.name}/${chain.name} rule ${index + 1}`;
      // One pass: the protocol seen so far (for port matches) and which of -s/-d/-p/-i/-o
      // appeared (iptables: "multiple -d flags not allowed").
      let protocol: string | undefined;
      let seenBasics = '';
      for (const match of rule.matches) {
        checkMatch(where, match, family, protocol);
        if (singleBasicMatches.has(match.kind)) {
          if (seenBasics.includes(`|${match.kind}|`)) {
            throw new InvalidFieldError(`${where} ${match.kind}`, match, 'may appear only once per rule');
          }
          seenBasics += `|${match.kind}|`;
        }
        if (match.kind === 'protocol' && !match.negate) protocol = match.protocol;
      }
      if (!rule.target) return;
      checkTarget(where, rule.target, family, protocol);
      if (rule.target.kind === 'jump') {
        const to = rule.target.chain;
        if (isBuiltinChain(table.name, to)) {
          throw new InvalidFieldError(
            `${where} target`,
            to,
            'is a built-in chain; only user chains can be jumped to',
          );
        }
        if (deleting.has(to)) throw new UnknownTargetError(`${where} target`, to);
        if (!declared.has(to) && !existing.has(to)) throw new UnknownTargetError(`${where} target`, to);
        targets.add(to);
      }
      if (table.name === 'nat' && rule.target.kind === 'verdict' && rule.target.verdict === 'DROP') {
        // iptables: "The nat table is not intended for filtering, the use of DROP is therefore inhibited."
        throw new InvalidFieldError(`${where} target`, 'DROP', 'is not allowed in the nat table');
      }
      const restriction = targetRules[rule.target.kind];
      if (restriction && restriction.table !== table.name) {
        throw new InvalidFieldError(
          `${where} target`,
          rule.target.kind.toUpperCase(),
          `is only valid in the ${restriction.table} table`,
        );
      }
    });
  }
  checkLoopsAndHooks(table, jumps, options.entryPoints?.[table.name] ?? {});
}

/** Reject jump cycles (the kernel returns ELOOP) and hook-restricted targets reachable from the wrong hook. */
function checkLoopsAndHooks(
  table: Table,
  jumps: Map<string, Set<string>>,
  entryPoints: Record<string, readonly string[]>,
): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (chain: string, path: string[]) => {
    if (state.get(chain) === 'done') return;
    if (state.get(chain) === 'visiting') {
      throw new InvalidFieldError(
        `${table.name}/${chain}`,
        [...path, chain].join(' -> '),
        'forms a jump loop',
      );
    }
    state.set(chain, 'visiting');
    for (const next of jumps.get(chain) ?? []) visit(next, [...path, chain]);
    state.set(chain, 'done');
  };
  for (const chain of jumps.keys()) visit(chain, []);

  const hooksOf = new Map<string, Set<string>>();
  const reach = (chain: string, hook: string) => {
    const hooks = hooksOf.get(chain) ?? new Set<string>();
    if (hooks.has(hook)) return;
    hooks.add(hook);
    hooksOf.set(chain, hooks);
    for (const next of jumps.get(chain) ?? []) reach(next, hook);
  };
  for (const builtin of BUILTIN_CHAINS[table.name]) reach(builtin, builtin);
  for (const [chain, hooks] of Object.entries(entryPoints)) for (const hook of hooks) reach(chain, hook);
  for (const chain of table.chains) {
    const hooks = hooksOf.get(chain.name);
    if (!hooks) continue;
    chain.rules.forEach((rule, index) => {
      const restriction = rule.target && targetRules[rule.target.kind];
      if (!restriction) return;
      for (const hook of hooks) {
        if (!restriction.hooks.includes(hook)) {
          throw new InvalidFieldError(
            `${table.name}/${chain.name} rule ${index + 1} target`,
            rule.target!.kind.toUpperCase(),
            `is reached from ${hook} but is only valid from ${restriction.hooks.join('/')}`,
          );
        }
      }
    });
  }
}

/**
 * Check a ruleset before it is written: every field, every jump target (built-in target,
 * declared chain or `existingChains`), chain names, loops, and target/table/hook rules.
 * Throws InvalidFieldError or UnknownTargetError naming the table, chain, rule and field.
 */
export function validateRuleset(ruleset: Ruleset, options: ValidateOptions = {}): void {
  if (ruleset.family !== 'ipv4' && ruleset.family !== 'ipv6') {
    throw new InvalidFieldError('family', ruleset.family, 'must be ipv4 or ipv6');
  }
  const seen = new Set<string>();
  for (const table of ruleset.tables) {
    if (seen.has(table.name)) throw new InvalidFieldError('table', table.name, 'appears twice');
    seen.add(table.name);
    validateTable(table, ruleset.family, options);
  }
}
