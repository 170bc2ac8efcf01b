import {
  type ConntrackFlow,
  ConntrackNetlink,
  ConntrackNetlinkError,
  IPPROTO_UDP,
} from '@nodeagent/netfilter';
import type { IPFamily } from '../model/ip-family';

/**
 * One IP family's conntrack table as the reconciler needs it (upstream's conntrack.Interface:
 * ListEntries, DeleteEntries): list the entries, delete stale ones by their tuple.
 */
export interface ConntrackCleaner {
  /**
   * The family's entries: every one, or a subset holding at least its UDP entries (the only
   * ones the reconciler judges; it checks the protocol itself).
   */
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
 * is tried again on the next call. Its list asks the kernel for UDP entries only: upstream lists
 * the whole table at every sync and skips the rest, and on a node whose table is mostly TCP
 * (every connection, TIME_WAIT ones included) decoding those cost each sync 20-60 ms of main
 * thread and ~230 KB of garbage at 250k endpoints (#54).
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
    listEntries: async () => (await get()).listEntries(fam, IPPROTO_UDP),
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
