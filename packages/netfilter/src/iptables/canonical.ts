import ipaddr from 'ipaddr.js';
import type { IpFamily, Match, Rule, Target } from './model';
import { renderRuleArgs } from './render-rule';

// iptables-save prints a rule in its own normal form: addresses as network/prefix, the basic
// matches (-s -d -i -o -p) first, marks as --set-xmark, probabilities as the kernel's 31-bit
// fraction, default options spelled out. Canonicalising both sides lets a model be compared
// with what the kernel reports.

const basicOrder: Record<string, number> = {
  source: 0,
  destination: 1,
  'in-interface': 2,
  'out-interface': 3,
  protocol: 4,
};

const conntrackOrder = ['INVALID', 'NEW', 'RELATED', 'ESTABLISHED', 'UNTRACKED', 'SNAT', 'DNAT'];

/** `10.1.2.3` → `10.1.2.3/32`, `10.1.2.3/8` → `10.0.0.0/8`, IPv6 compressed. */
export function canonicalCidr(address: string, family: IpFamily): string {
  try {
    const [ip, prefix] = address.includes('/')
      ? ipaddr.parseCIDR(address)
      : [ipaddr.parse(address), family === 'ipv6' || address.includes(':') ? 128 : 32];
    const network =
      ip.kind() === 'ipv4'
        ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${prefix}`);
    return `${network.toString()}/${prefix}`;
  } catch {
    return address;
  }
}

/** The kernel stores a random probability as round(p × 2^31); equal stored values are equal rules. */
export function kernelProbability(probability: number): number {
  return Math.round(probability * 0x80000000);
}

function canonicalMatch(match: Match, family: IpFamily): Match {
  switch (match.kind) {
    case 'source':
    case 'destination':
      return { ...match, address: canonicalCidr(match.address, family), negate: !!match.negate };
    case 'protocol':
    case 'in-interface':
    case 'out-interface':
      return { ...match, negate: !!match.negate };
    case 'port': {
      const flat = (p: typeof match.sourcePort) => (Array.isArray(p) && p[0] === p[1] ? p[0] : p);
      return {
        kind: 'port',
        protocol: match.protocol,
        ...(match.sourcePort !== undefined
          ? { sourcePort: flat(match.sourcePort), negateSource: !!match.negateSource }
          : {}),
        ...(match.destinationPort !== undefined
          ? { destinationPort: flat(match.destinationPort), negateDestination: !!match.negateDestination }
          : {}),
      };
    }
    case 'statistic':
      return match.mode === 'random'
        ? { ...match, probability: kernelProbability(match.probability) / 0x80000000 }
        : match;
    case 'recent':
      return {
        kind: 'recent',
        name: match.name,
        action: match.action,
        ...(match.seconds !== undefined ? { seconds: match.seconds } : {}),
        ...(match.hitcount !== undefined ? { hitcount: match.hitcount } : {}),
        reap: !!match.reap,
        side: match.side ?? 'source',
        negate: !!match.negate,
      };
    case 'conntrack':
      return {
        kind: 'conntrack',
        states: [...match.states].sort((a, b) => conntrackOrder.indexOf(a) - conntrackOrder.indexOf(b)),
        negate: !!match.negate,
      };
    case 'mark':
      return {
        kind: 'mark',
        value: match.value >>> 0,
        mask: (match.mask ?? 0xffffffff) >>> 0,
        negate: !!match.negate,
      };
    case 'set':
    case 'multiport':
      return { ...match, negate: !!match.negate };
    default:
      return match;
  }
}

function canonicalTarget(target: Target, family: IpFamily): Target {
  switch (target.kind) {
    case 'reject':
      return {
        kind: 'reject',
        with: target.with ?? (family === 'ipv6' ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'),
      };
    case 'mark': {
      const v = target.value >>> 0;
      switch (target.op) {
        case 'or':
          return { kind: 'mark', op: 'xset', value: v, mask: v };
        case 'xor':
          return { kind: 'mark', op: 'xset', value: v, mask: 0 };
        case 'and':
          return { kind: 'mark', op: 'xset', value: 0, mask: ~v >>> 0 };
        case 'set':
          return { kind: 'mark', op: 'xset', value: v, mask: 0xffffffff };
        default:
          return { kind: 'mark', op: 'xset', value: v, mask: target.mask >>> 0 };
      }
    }
    case 'jump':
      return { kind: 'jump', chain: target.chain, goto: !!target.goto };
    case 'dnat':
      return { ...target, random: !!target.random, persistent: !!target.persistent };
    case 'snat':
      return {
        ...target,
        random: !!target.random,
        randomFully: !!target.randomFully,
        persistent: !!target.persistent,
      };
    case 'masquerade':
      return { ...target, random: !!target.random, randomFully: !!target.randomFully };
    default:
      return target;
  }
}

/** The rule in iptables-save's normal form. */
export function canonicalRule(rule: Rule, family: IpFamily): Rule {
  const matches = rule.matches.map((m) => canonicalMatch(m, family));
  const basics = matches
    .filter((m) => m.kind in basicOrder)
    .sort((a, b) => (basicOrder[a.kind] ?? 0) - (basicOrder[b.kind] ?? 0));
  const modules = matches.filter((m) => !(m.kind in basicOrder));
  return rule.target
    ? { matches: [...basics, ...modules], target: canonicalTarget(rule.target, family) }
    : { matches: [...basics, ...modules] };
}

/** A string equal for two rules exactly when the kernel would store them identically. */
export function ruleKey(rule: Rule, family: IpFamily): string {
  return renderRuleArgs(canonicalRule(rule, family));
}
