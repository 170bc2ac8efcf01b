// Base chain declarations: hook numbers per family and nft's standard priority names.

import { InvalidFieldError } from '../../errors';
import type { BaseChainHook, NftFamily } from '../model';

/** NF_INET_* (ip, ip6, inet, bridge share the numbering), NF_ARP_*, NF_NETDEV_*. */
const INET_HOOKS: Readonly<Record<string, number>> = {
  prerouting: 0,
  input: 1,
  forward: 2,
  output: 3,
  postrouting: 4,
  ingress: 5,
};
const ARP_HOOKS: Readonly<Record<string, number>> = { input: 0, output: 1, forward: 2 };
const NETDEV_HOOKS: Readonly<Record<string, number>> = { ingress: 0, egress: 1 };

function hooksOf(family: NftFamily): Readonly<Record<string, number>> {
  if (family === 'arp') return ARP_HOOKS;
  if (family === 'netdev') return NETDEV_HOOKS;
  return INET_HOOKS;
}

export function hookNumber(family: NftFamily, chain: string, hook: string): number {
  const number = hooksOf(family)[hook];
  if (number === undefined)
    throw new InvalidFieldError(`chain ${chain} hook`, hook, `is not a hook of the ${family} family`);
  return number;
}

export function hookName(family: NftFamily, number: number): BaseChainHook | undefined {
  for (const [name, value] of Object.entries(hooksOf(family)))
    if (value === number) return name as BaseChainHook;
  return undefined;
}

const INET_PRIORITIES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};
const BRIDGE_PRIORITIES: Readonly<Record<string, number>> = {
  dstnat: -300,
  filter: -200,
  out: 100,
  srcnat: 300,
};
const FILTER_ONLY: Readonly<Record<string, number>> = { filter: 0 };

function prioritiesOf(family: NftFamily): Readonly<Record<string, number>> {
  if (family === 'bridge') return BRIDGE_PRIORITIES;
  if (family === 'arp' || family === 'netdev') return FILTER_ONLY;
  return INET_PRIORITIES;
}

/** Names nft accepts only on one hook (its "invalid priority expression value in this context"). */
const NAME_ONLY_ON_HOOK: Readonly<Record<string, string>> = {
  dstnat: 'prerouting',
  srcnat: 'postrouting',
  out: 'output',
};

/** `dstnat`, `filter - 10`, `-100`, 5 → the number the kernel stores. */
export function priorityNumber(
  family: NftFamily,
  chain: string,
  priority: number | string,
  hook?: string,
): number {
  if (typeof priority === 'number') {
    if (!Number.isInteger(priority) || priority < -2147483648 || priority > 2147483647)
      throw new InvalidFieldError(`chain ${chain} priority`, priority, 'is not a 32-bit integer');
    return priority;
  }
  const match = /^\s*(?:(-?\d+)|([a-z]+)(?:\s*([+-])\s*(\d+))?)\s*$/.exec(priority);
  if (!match)
    throw new InvalidFieldError(`chain ${chain} priority`, priority, 'is not a number or `name [+|- n]`');
  if (match[1] !== undefined) return priorityNumber(family, chain, Number(match[1]), hook);
  const name = match[2] as string;
  const base = prioritiesOf(family)[name];
  const onlyHook = NAME_ONLY_ON_HOOK[name];
  if (base !== undefined && onlyHook !== undefined && hook !== undefined && hook !== onlyHook)
    throw new InvalidFieldError(`chain ${chain} priority`, priority, `is only valid on the ${onlyHook} hook`);
  if (base === undefined)
    throw new InvalidFieldError(
      `chain ${chain} priority`,
      priority,
      `names no standard priority of the ${family} family`,
    );
  const offset = match[4] === undefined ? 0 : Number(match[4]) * (match[3] === '-' ? -1 : 1);
  return base + offset;
}

/** The standard name of a priority number in the family (as `nft -j` reports it), else the number. */
export function priorityName(family: NftFamily, priority: number): number | string {
  for (const [name, value] of Object.entries(prioritiesOf(family))) if (value === priority) return name;
  return priority;
}
