import { type ConntrackFlow, ConntrackNetlink, ConntrackNetlinkError } from '@nodeagent/netfilter';
import type { IPFamily } from '../model/ip-family';

/**
 * One IP family's conntrack table as the reconciler needs it (upstream's conntrack.Interface:
 * ListEntries, DeleteEntries): list every entry, delete stale ones by their tuple.
 */
export interface ConntrackCleaner {
  /** Every entry of the family's table. */
  listEntries(): Promise<readonly ConntrackFlow[]>;
  /**
   * Deletes the entries; resolves how many were removed (entries already gone are not counted).
   * A failure may carry the count removed anyway as `deleted`.
   */
  deleteEntries(flows: readonly ConntrackFlow[]): Promise<number>;
}

/**
 * ConntrackCleaner over ctnetlink (no `conntrack` binary), as upstream since v1.33. The socket is
 * opened on first use by `open` (default: in this process's network namespace); a failed open
 * is tried again on the next call.
 */
export function netlinkConntrack(
  family: IPFamily,
  open: () => Promise<ConntrackNetlink> = ConntrackNetlink.open,
): ConntrackCleaner & {
  /** Closes the netlink socket if one was opened (the daemon's shutdown). */
  close(): void;
} {
  const fam = family === 'IPv6' ? 'ipv6' : 'ipv4';
  let socket: Promise<ConntrackNetlink> | undefined;
  /** The open socket, opening it once. */
  const get = (): Promise<ConntrackNetlink> => {
    socket ??= open().catch((err: unknown) => {
      socket = undefined;
      throw err;
    });
    return socket;
  };
  return {
    listEntries: async () => (await get()).listEntries(fam),
    deleteEntries: async (flows) => (flows.length === 0 ? 0 : (await get()).deleteEntries(flows)),
    close: () => {
      void socket?.then((s) => s.close()).catch(() => undefined);
      socket = undefined;
    },
  };
}

/** How many entries a failed delete removed anyway (0 when the error does not say). */
export function deletedDespite(err: unknown): number {
  return err instanceof ConntrackNetlinkError ? err.deleted : 0;
}
