import { isIpvsUnavailableError, openIpvs } from '@nodeagent/ipvs';
import type { IpvsTable } from './ipvs-kernel';

/** An IPVS table handle that holds a netlink socket until closed. */
export type ClosableIpvsTable = IpvsTable & {
  /** Closes the netlink socket; the table is unusable afterwards. */
  close(): void;
};

/**
 * Opens the kernel's IPVS table (of another network namespace with `netnsPath`, e.g.
 * /run/netns/x), so users of the ipvs mode need no direct dependency on @nodeagent/ipvs.
 * Fails with IpvsUnavailableError when the kernel has no ip_vs.
 */
export function openIpvsTable(options: { netnsPath?: string } = {}): Promise<ClosableIpvsTable> {
  return openIpvs(options);
}

/**
 * True when `err` says IPVS cannot be used here (no ip_vs in the kernel, or no native netlink
 * addon), from either build of @nodeagent/ipvs (an app may load its ESM and its CJS copy).
 */
export function isIpvsUnavailable(err: unknown): boolean {
  return isIpvsUnavailableError(err);
}
