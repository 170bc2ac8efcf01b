import { randomBytes } from 'node:crypto';
import { InvalidNetnsNameError } from './errors';

/** Prefix of every namespace these helpers create; cleanup-stale only ever touches this prefix. */
export const NETNS_PREFIX = 'na-';

const purposePattern = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
// `ip netns` names become files under /run/netns: no slashes, no dot-names, bounded length.
const netnsNamePattern = /^[A-Za-z0-9_.-]{1,64}$/;
// IFNAMSIZ is 16 including the terminating NUL.
const ifNamePattern = /^[A-Za-z0-9_.-]{1,15}$/;

/** What goes into a generated namespace name besides its purpose. */
export interface UniqueNameOptions {
  /** The process whose exit makes the namespace stale (default: this process). */
  ownerPid?: number;
  /** The random suffix (default a few random characters). */
  random?: () => string;
}

/**
 * A unique namespace name `na-<purpose>-<pid>-<random>`: the pid lets `cleanup-stale` find
 * namespaces whose creator died, the random part keeps parallel runs in one process apart.
 */
export function uniqueNetnsName(purpose = 'test', options: UniqueNameOptions = {}): string {
  const random = options.random ?? (() => randomBytes(4).toString('hex'));
  if (!purposePattern.test(purpose) || purpose.length > 24) {
    throw new InvalidNetnsNameError(
      'purpose',
      purpose,
      'must be lowercase words joined by "-", at most 24 chars',
    );
  }
  return `${NETNS_PREFIX}${purpose}-${options.ownerPid ?? process.pid}-${random()}`;
}

/** The creator pid encoded in a name from uniqueNetnsName, or undefined for foreign names. */
export function creatorPidOf(name: string): number | undefined {
  const match = /^na-[a-z0-9-]+?-(\d+)-[0-9a-f]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Throws InvalidNetnsNameError unless `name` is a usable `ip netns` name. */
export function assertNetnsName(name: string): void {
  if (!netnsNamePattern.test(name) || name === '.' || name === '..') {
    throw new InvalidNetnsNameError('netns', name, 'is not a valid namespace name');
  }
}

/** Throws InvalidNetnsNameError naming `field` unless `name` is a valid interface name. */
export function assertIfName(field: string, name: string): void {
  if (!ifNamePattern.test(name)) {
    throw new InvalidNetnsNameError(
      field,
      name,
      'is not a valid interface name (1-15 chars of [A-Za-z0-9_.-])',
    );
  }
}

/**
 * A unique interface name: interfaces share one kernel-wide 15-char limit, so this is short
 * (`nv` + 10 hex chars + suffix) rather than descriptive.
 */
export function uniqueIfName(
  suffix = '',
  random: () => string = () => randomBytes(5).toString('hex'),
): string {
  const name = `nv${random()}${suffix}`;
  assertIfName('interface', name);
  return name;
}
