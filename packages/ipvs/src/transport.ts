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
  close(): void;
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
