import { basename } from 'node:path';
import { CodedError, errorPredicate } from './errors';

/**
 * The Debian package that ships each external tool the nodeagent packages run, so a missing
 * one is reported with what to install. The iptables family (`iptables-nft-restore`,
 * `ip6tables-legacy-save`...) is matched by pattern below.
 */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  nft: 'nftables',
  ipset: 'ipset',
  conntrack: 'conntrack',
  ipvsadm: 'ipvsadm',
  nsenter: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  ip: 'iproute2',
  sysctl: 'procps',
  modprobe: 'kmod',
};

const IPTABLES_FAMILY = /^(ip6?tables|arptables|ebtables)(-(nft|legacy))?(-(save|restore))?$/;

/** The Debian package that ships `command` (a name or a path), if it is one this project runs. */
export function debianPackageOf(command: string): string | undefined {
  const name = basename(command);
  if (IPTABLES_FAMILY.test(name)) return 'iptables';
  return Object.hasOwn(DEBIAN_PACKAGES, name) ? DEBIAN_PACKAGES[name] : undefined;
}

/**
 * An external program is not installed (spawn failed with ENOENT, or nsenter could not find
 * it inside the namespace). Names the program and, where known, the Debian package to install.
 */
export class CommandNotFoundError extends CodedError {
  constructor(
    /** The program that was not found, as it was asked for (`nft`, `/usr/sbin/ipset`). */
    readonly command: string,
    /** The Debian package that ships it, when known. */
    readonly debianPackage: string | undefined = debianPackageOf(command),
  ) {
    super(
      'COMMAND_NOT_FOUND',
      `${command}: executable file not found${command.includes('/') ? '' : ' in $PATH'}${
        debianPackage ? ` (install the Debian package "${debianPackage}")` : ''
      }`,
    );
  }
}

/** Whether an error is a CommandNotFoundError, from either the ESM or the CJS build. */
export const isCommandNotFoundError = errorPredicate(CommandNotFoundError);
