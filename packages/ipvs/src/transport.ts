/**
 * What the IPVS handle needs from a generic netlink socket. The real one is NetlinkTransport;
 * tests inject fakes to check request building and error mapping without a kernel.
 */
export interface GenlTransport {
  /**
   * Sends one message of netlink `type` with REQUEST|ACK|`flags` and resolves with the payloads
   * (genl header onwards) of the replies: none for a bare ACK, one for a reply, many for a dump.
   * Rejects with NetlinkErrnoError when the kernel answers with an error.
   */
  request(type: number, flags: number, payload: Buffer): Promise<Buffer[]>;
  /**
   * Optional fast path for writes that have no reply: sends every message (REQUEST|`flags`, no ACK)
   * in one datagram followed by an acknowledged NOOP. The kernel handles a datagram's messages in
   * order and answers only failures, so once the NOOP is acknowledged every result is known.
   * Resolves with one entry per message: undefined for success or the kernel's error.
   */
  requestBatch?(type: number, messages: readonly BatchMessage[]): Promise<(NetlinkErrnoError | undefined)[]>;
  /** Closes the transport; later requests fail. */
  close(): void;
}

/** One message of a batch: its netlink flags and body. */
export interface BatchMessage {
  flags: number;
  payload: Buffer;
}

/** A negative NLMSG_ERROR from the kernel. `errno` is positive (e.g. 17), `errnoName` e.g. EEXIST. */
export class NetlinkErrnoError extends Error {
  readonly code = 'NETLINK_ERRNO';
  constructor(
    readonly errno: number,
    readonly errnoName: string,
  ) {
    super(`netlink request failed: ${errnoName} (errno ${errno})`);
    this.name = 'NetlinkErrnoError';
  }
}
