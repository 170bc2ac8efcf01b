import { NetfilterError } from '../errors';
import { NetlinkChannel, type NfnetlinkChannel } from '../nftables/netlink/channel';
import { NLMSG_DONE, NLMSG_ERROR } from '../nftables/netlink/constants';
import { readErrorMessage, splitMessages } from '../nftables/netlink/message';
import {
  type ConntrackFamily,
  type ConntrackFlow,
  decodeConntrackEntry,
  encodeConntrackDelete,
  encodeConntrackDump,
} from './codec';
import { ENOENT } from './constants';

/** A conntrack dump or delete the kernel refused (errno positive), or one whose replies were lost. */
export class ConntrackNetlinkError extends NetfilterError {
  constructor(
    readonly operation: 'list' | 'delete',
    readonly errno: number | undefined,
    message: string,
    /** Entries a failed delete removed before or besides the failures. */
    readonly deleted = 0,
  ) {
    super('CONNTRACK_NETLINK', `conntrack ${operation}: ${message}`);
  }
}

/** Deletes per datagram at most (each asks for an ACK the receive buffer must hold). */
const MAX_DELETES_PER_DATAGRAM = 256;

interface Pending {
  matches(seq: number): boolean;
  receive(type: number, body: Buffer, seq: number): void;
  fail(error: Error): void;
}

/**
 * The conntrack table over ctnetlink (no `conntrack` binary): list a family's entries, delete
 * entries by their original tuple. The socket is nftables' NETLINK_NETFILTER channel, in this
 * process's network namespace (`open`) or another's (a NetnsChannel). One operation at a time.
 */
export class ConntrackNetlink {
  private seq = (Date.now() & 0x3fffffff) >>> 0;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /** A channel in this process's network namespace (NftNetlinkUnavailableError without the addon). */
  static async open(): Promise<ConntrackNetlink> {
    return new ConntrackNetlink(await NetlinkChannel.open(1 << 20));
  }

  constructor(private readonly channel: NfnetlinkChannel) {
    channel.onDatagram((datagram) => {
      for (const m of splitMessages(datagram)) {
        if (this.pending?.matches(m.seq)) this.pending.receive(m.type, m.body, m.seq);
      }
    });
    channel.onFailure((error) => this.pending?.fail(error));
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0 || 1;
    return this.seq;
  }

  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Sends `datagram` with `pending` installed until `done` settles. */
  private async exchange(datagram: Buffer, pending: Pending, done: Promise<void>): Promise<void> {
    this.pending = pending;
    this.channel.setActive(true);
    done.catch(() => undefined);
    try {
      await this.channel.send(datagram);
      await done;
    } finally {
      this.pending = undefined;
      this.channel.setActive(false);
    }
  }

  /**
   * Every entry of `family`'s conntrack table (IPCTNL_MSG_CT_GET, NLM_F_DUMP), or with
   * `protocol` (IPPROTO_*) those the kernel's dump filter keeps: see encodeConntrackDump (a
   * kernel before 5.8 lists every entry, so a caller still checks the protocol).
   */
  listEntries(family: ConntrackFamily, protocol?: number): Promise<ConntrackFlow[]> {
    return this.serialize(async () => {
      const seq = this.nextSeq();
      const flows: ConntrackFlow[] = [];
      let settle: (error?: Error) => void = () => {};
      const done = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      const pending: Pending = {
        matches: (s) => s === seq,
        receive: (type, body) => {
          if (type === NLMSG_DONE) return settle();
          if (type === NLMSG_ERROR) {
            const { errno } = readErrorMessage(body);
            if (errno !== 0) settle(new ConntrackNetlinkError('list', errno, `errno ${errno}`));
            return;
          }
          try {
            flows.push(decodeConntrackEntry(body));
          } catch (err) {
            settle(err as Error);
          }
        },
        fail: (error) => settle(new ConntrackNetlinkError('list', undefined, error.message)),
      };
      await this.exchange(encodeConntrackDump(family, seq, protocol), pending, done);
      return flows;
    });
  }

  /**
   * Deletes the entries; resolves how many the kernel removed. An entry already gone (ENOENT)
   * is neither counted nor an error; any other refusal rejects with ConntrackNetlinkError
   * (carrying the count) after every entry was tried.
   */
  deleteEntries(flows: readonly ConntrackFlow[]): Promise<number> {
    return this.serialize(async () => {
      let deleted = 0;
      const errnos: number[] = [];
      const step = Math.max(1, Math.min(MAX_DELETES_PER_DATAGRAM, this.channel.ackCapacity));
      for (let i = 0; i < flows.length; i += step) {
        const r = await this.deleteChunk(flows.slice(i, i + step));
        deleted += r.deleted;
        errnos.push(...r.errnos);
      }
      if (errnos.length > 0)
        throw new ConntrackNetlinkError(
          'delete',
          errnos[0],
          `${errnos.length} refused (errno ${errnos[0]})`,
          deleted,
        );
      return deleted;
    });
  }

  /** One datagram of deletes, each acknowledged. */
  private async deleteChunk(flows: readonly ConntrackFlow[]): Promise<{ deleted: number; errnos: number[] }> {
    const first = this.nextSeq();
    const messages = flows.map((flow, i) => encodeConntrackDelete(flow, i === 0 ? first : this.nextSeq()));
    const last = this.seq;
    let deleted = 0;
    let answered = 0;
    const errnos: number[] = [];
    let settle: (error?: Error) => void = () => {};
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    const inRange = (s: number) => (first <= last ? s >= first && s <= last : s >= first || s <= last);
    const pending: Pending = {
      matches: inRange,
      receive: (type, body) => {
        if (type !== NLMSG_ERROR) return;
        const { errno } = readErrorMessage(body);
        if (errno === 0) deleted++;
        else if (errno !== ENOENT) errnos.push(errno);
        if (++answered === flows.length) settle();
      },
      fail: (error) => settle(new ConntrackNetlinkError('delete', undefined, error.message, deleted)),
    };
    await this.exchange(Buffer.concat(messages), pending, done);
    return { deleted, errnos };
  }

  /** Closes the socket. */
  close(): void {
    this.channel.close();
  }
}
