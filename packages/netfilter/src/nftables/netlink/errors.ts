import { NETLINK_ADDON_HINT } from '@nodeagent/primitives/netlink';
import { NetfilterError } from '../../errors';

// The errno names of every netlink user are primitives'; client.ts imports them from here.
export { errnoName } from '@nodeagent/primitives/netlink';

/**
 * The kernel rejected an operation of a transaction. The whole batch was rolled back (nf_tables
 * commits a batch atomically), so the kernel is as it was before the transaction.
 */
export class NftKernelError extends NetfilterError {
  constructor(
    /** The operation as nft would spell it, e.g. `add chain ip kube-proxy services`. */
    readonly operation: string,
    /** Positive errno, e.g. 2. */
    readonly errno: number,
    /** e.g. `ENOENT`. */
    readonly errnoName: string,
    /** Index of the operation in the transaction (-1: the batch as a whole). */
    readonly index: number,
    /** Further operations the kernel rejected in the same batch. */
    readonly others: readonly NftKernelError[] = [],
  ) {
    const more = others.length > 0 ? ` (and ${others.length} more rejected operations)` : '';
    super('NFT_KERNEL_ERROR', `${operation}: ${errnoName} (errno ${errno})${more}`);
  }
}

/** The `netlink` package's native addon cannot be loaded in this process. */
export class NftNetlinkUnavailableError extends NetfilterError {
  constructor(readonly reason: string) {
    super(
      'NFT_NETLINK_UNAVAILABLE',
      `nf_tables over netlink is not available to this process: ${reason} (${NETLINK_ADDON_HINT})`,
    );
  }
}

/**
 * The socket failed or lost replies (ENOBUFS), was closed, or its relay process died. Whether a
 * pending transaction was committed is unknown unless `committed` says so.
 */
export class NftNetlinkTransportError extends NetfilterError {
  constructor(
    readonly reason: string,
    readonly errno?: number,
  ) {
    super('NFT_NETLINK_TRANSPORT', `nf_tables netlink socket: ${reason}`);
  }
}

/**
 * A transaction's batch is bigger than one datagram the socket may send: the kernel takes a
 * batch only whole, in one sendmsg, limited by SO_SNDBUF (at most twice net.core.wmem_max;
 * `nft` lifts the limit with SO_SNDBUFFORCE, which this socket cannot set). Nothing was sent.
 */
export class NftBatchTooLargeError extends NetfilterError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'NFT_BATCH_TOO_LARGE',
      `the nf_tables batch is ${bytes} bytes, over the socket's ${limit}-byte send limit: raise net.core.wmem_max (the limit is twice it), split the transaction, or let the client split it (splitOversizedBatches, not atomic)`,
    );
  }
}
