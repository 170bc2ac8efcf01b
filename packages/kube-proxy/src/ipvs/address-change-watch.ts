import type { NetlinkSocket } from 'netlink';

const RTM_NEWADDR = 20;
const RTM_DELADDR = 21;
/** rtnetlink multicast groups (linux/rtnetlink.h RTNLGRP_*): address changes per family. */
const RTNLGRP_IPV4_IFADDR = 5;
const RTNLGRP_IPV6_IFADDR = 9;
const AF_INET6 = 10;

/** What AddressChangeWatch listens on: a NETLINK_ROUTE socket of the `netlink` package. */
export type AddressNotificationSocket = Pick<NetlinkSocket, 'addMembership' | 'on' | 'close'>;

/**
 * Says whether a family's addresses may have changed outside one interface (kube-ipvs0) since
 * the last `startLookup`, from the kernel's address notifications (RTM_NEWADDR / RTM_DELADDR on
 * RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR). The node address lookup of every sync (upstream's
 * GetAllLocalAddressesExcept) dumps every address of the family, kube-ipvs0's one per Service IP
 * included: 43 ms of a one-endpoint change in the micro-VM at 5,000 Services. With this, a
 * sync dumps only after a notification about another interface (or kube-ipvs0's index changed,
 * or the socket reported an error such as ENOBUFS: notifications may have been lost), so an
 * address added to the node is still seen by the next sync, as upstream's.
 */
export class AddressChangeWatch {
  /** Per family (true = IPv6): a lookup is needed. Starts true: nothing was looked up yet. */
  private readonly changed = { v4: true, v6: true };
  /** Per family: the interface whose notifications do not count (kube-ipvs0 at the last lookup). */
  private readonly ignored: { v4: number | undefined; v6: number | undefined } = {
    v4: undefined,
    v6: undefined,
  };
  private closed = false;

  constructor(private readonly socket: AddressNotificationSocket) {
    socket.on('message', (msgs) => {
      for (const m of msgs) this.notified(m.type, m.data);
    });
    // An overrun receive buffer (ENOBUFS) drops notifications: look everything up again.
    socket.on('error', () => this.forget());
    socket.addMembership(RTNLGRP_IPV4_IFADDR);
    socket.addMembership(RTNLGRP_IPV6_IFADDR);
  }

  /** Whether `family`'s addresses may differ from what the last lookup saw. */
  mayHaveChanged(v6: boolean): boolean {
    return this.closed || this.changed[v6 ? 'v6' : 'v4'];
  }

  /**
   * A lookup of `family` is about to dump the addresses: notifications from here on count
   * against it, except those about `ignoredIndex` (the excluded interface, if it exists).
   */
  startLookup(v6: boolean, ignoredIndex: number | undefined): void {
    const f = v6 ? 'v6' : 'v4';
    this.changed[f] = false;
    this.ignored[f] = ignoredIndex;
  }

  /** Makes the next lookup of both families dump again (a failed lookup, a lost notification). */
  forget(): void {
    this.changed.v4 = true;
    this.changed.v6 = true;
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  private notified(type: number, data: Buffer): void {
    if ((type !== RTM_NEWADDR && type !== RTM_DELADDR) || data.length < 8) return;
    const f = data.readUInt8(0) === AF_INET6 ? 'v6' : 'v4';
    // Our own Service IPs on kube-ipvs0 (5,000 at a full sync) change nothing the lookup returns.
    if (data.readUInt32LE(4) !== this.ignored[f]) this.changed[f] = true;
  }
}
