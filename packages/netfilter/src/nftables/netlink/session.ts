import type { BatchBuffer } from './batch-buffer';
import type { NfnetlinkChannel } from './channel';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP } from './constants';
import { NftBatchTooLargeError, NftNetlinkTransportError } from './errors';
import {
  encodeBareMessage,
  encodeNfnlMessage,
  NFNL_HEADER_LENGTH,
  type ReceivedMessage,
  readErrorMessage,
  splitMessages,
} from './message';

/** How a batch is sent. */
export interface BatchSendOptions {
  /** false: no BATCH_END, so the kernel checks every message and aborts (`nft --check`). */
  commit: boolean;
  /** Ask for an ACK per message where the socket's receive buffer can hold them all. */
  ackEach?: boolean;
  /** The first message to send (default 0). */
  from?: number;
  /** One past the last message to send (default: all). */
  to?: number;
}

export interface BatchOutcome {
  /** Per item: the kernel's errno (positive) or undefined when it accepted the message. */
  errors: (number | undefined)[];
  /** An error the kernel reported for the batch as a whole (its BEGIN/END message). */
  batchErrno?: number;
  /** Did every item ask for an ACK (`ackEach`, and affordable for this batch's size)? */
  acknowledged: boolean;
}

interface Waiter {
  /** Messages with these seqs belong to this waiter. */
  matches(seq: number): boolean;
  receive(message: ReceivedMessage): void;
  fail(error: Error): void;
}

/**
 * nf_tables conversations over one channel: batches (BEGIN, messages, END) and dumps. One at a
 * time: operations queue behind each other, so replies never interleave.
 *
 * A batch datagram is followed by a separate NOOP with NLM_F_ACK. The kernel processes each
 * sendmsg completely (the batch is committed or aborted, every reply queued) before it reads the
 * next, so the NOOP's ACK arriving means every reply of the batch has arrived. Items ask for no
 * ACK: nfnetlink reports every failing message of a batch whether or not it asked for one (and
 * a failed commit on the batch's BEGIN), so per-item ACKs only added a reply to read per message
 * (a one-endpoint change: 5 replies instead of 1). `ackEach` asks for them where the socket's
 * buffer can hold one per item.
 */
export class NfnetlinkSession {
  private seq: number;
  private readonly waiters = new Set<Waiter>();
  private queue: Promise<unknown> = Promise.resolve();
  private closedWith: Error | undefined;

  constructor(
    private readonly channel: NfnetlinkChannel,
    firstSeq = (Date.now() & 0x3fffffff) >>> 0,
  ) {
    this.seq = firstSeq;
    channel.onDatagram((datagram) => {
      for (const message of splitMessages(datagram))
        for (const waiter of this.waiters) if (waiter.matches(message.seq)) waiter.receive(message);
    });
    channel.onFailure((error) => {
      for (const waiter of [...this.waiters]) waiter.fail(error);
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  /** Run `work` after everything queued before it. */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Send the datagrams one sendmsg each, in order, and wait for `done`. */
  private async exchange(datagrams: readonly Buffer[], waiter: Waiter, done: Promise<void>): Promise<void> {
    this.waiters.add(waiter);
    this.channel.setActive(true);
    // A failure before the first await would otherwise leave `done` rejected and unobserved.
    done.catch(() => undefined);
    try {
      for (const datagram of datagrams) await this.channel.send(datagram);
      await done;
    } finally {
      this.waiters.delete(waiter);
      if (this.waiters.size === 0) this.channel.setActive(false);
    }
  }

  /** Bytes BEGIN, END and the message headers add to the items' attributes. */
  static readonly BATCH_OVERHEAD = 2 * NFNL_HEADER_LENGTH;
  static readonly MESSAGE_OVERHEAD = NFNL_HEADER_LENGTH;

  /** The largest datagram the channel may send (0: unknown). */
  get maxDatagram(): number {
    return this.channel.maxDatagram;
  }

  /** Let the channel take one datagram of `bytes` (see NfnetlinkChannel.fitDatagram). */
  async fitDatagram(bytes: number): Promise<boolean> {
    const max = this.channel.maxDatagram;
    if (max <= 0 || bytes <= max) return true;
    return (await this.channel.fitDatagram?.(bytes)) ?? false;
  }

  /** Get ready to fit large datagrams (NfnetlinkChannel.prepareFit), where the channel can. */
  async prepareFit(): Promise<void> {
    await this.channel.prepareFit?.();
  }

  /**
   * Send messages `from` … `to - 1` of `batch` (default: all) as one batch datagram.
   * `commit: false` leaves out BATCH_END: the kernel then checks every message and aborts (nft
   * --check does the same). Seqs run
   * from BEGIN upwards, one per message, then END; the barrier NOOP follows in its own sendmsg.
   * The whole batch is numbered and framed in its own buffer (it is sent once), a part of it
   * in a copy (BatchBuffer.frame).
   */
  batch(batch: BatchBuffer, options: BatchSendOptions = { commit: true }): Promise<BatchOutcome> {
    return this.serialize(async () => {
      const from = options.from ?? 0;
      const to = options.to ?? batch.messages.length;
      const ack = options.ackEach === true && to - from <= this.channel.ackCapacity;
      const added = NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
      const { datagram, begin, end } = batch.frame(from, to, options.commit, added, () => this.nextSeq());
      const barrier = this.nextSeq();
      if (this.channel.maxDatagram > 0 && datagram.length > this.channel.maxDatagram)
        throw new NftBatchTooLargeError(datagram.length, this.channel.maxDatagram);
      const replies = new BatchReplies(begin, end, barrier, to - from, ack);
      // The barrier goes out in its own sendmsg, after the batch's.
      await this.exchange(
        [datagram, encodeBareMessage(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, barrier)],
        replies,
        replies.done,
      );
      return replies.outcome;
    });
  }

  /** A GET with NLM_F_DUMP: the bodies of every reply up to NLMSG_DONE. */
  dump(type: number, family: number, attributes: Buffer): Promise<Buffer[]> {
    return this.serialize(async () => {
      const seq = this.nextSeq();
      const bodies: Buffer[] = [];
      let settle: (error?: Error) => void = () => {};
      const done = new Promise<void>((resolve, reject) => {
        settle = (error) => (error ? reject(error) : resolve());
      });
      const waiter: Waiter = {
        matches: (s) => s === seq,
        receive: (message) => {
          if (message.type === NLMSG_DONE) return settle();
          if (message.type === NLMSG_ERROR) {
            const { errno } = readErrorMessage(message.body);
            if (errno !== 0) return settle(new DumpError(errno));
            return;
          }
          if (message.type === NLMSG_NOOP) return;
          bodies.push(Buffer.from(message.body));
        },
        fail: (error) => settle(error),
      };
      await this.exchange(
        [encodeNfnlMessage(type, NLM_F_REQUEST | NLM_F_DUMP, seq, family, attributes)],
        waiter,
        done,
      );
      return bodies;
    });
  }

  close(): void {
    this.closedWith ??= new NftNetlinkTransportError('the session is closed');
    for (const waiter of [...this.waiters]) waiter.fail(this.closedWith);
    this.channel.close();
  }
}

/**
 * The replies of one batch (seqs `begin` … `barrier`): each failing item's errno, a failed
 * BEGIN/END as the batch's, and the barrier's ACK, which settles `done`. One object per batch
 * rather than a closure per callback.
 */
class BatchReplies implements Waiter {
  readonly outcome: BatchOutcome;
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (error: Error) => void;

  constructor(
    private readonly begin: number,
    private readonly end: number,
    private readonly barrier: number,
    items: number,
    acknowledged: boolean,
  ) {
    this.outcome = { errors: new Array(items).fill(undefined), acknowledged };
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  matches(seq: number): boolean {
    return seq >= this.begin && seq <= this.barrier;
  }

  receive(message: ReceivedMessage): void {
    if (message.type !== NLMSG_ERROR) return;
    if (message.seq === this.barrier) {
      this.resolve();
      return;
    }
    const { errno } = readErrorMessage(message.body);
    if (message.seq === this.begin || message.seq === this.end) {
      if (errno !== 0) this.outcome.batchErrno ??= errno;
    } else if (errno !== 0) this.outcome.errors[message.seq - this.begin - 1] ??= errno;
  }

  fail(error: Error): void {
    this.reject(error);
  }
}

/** A dump the kernel refused (e.g. ENOENT for a missing table or set). */
export class DumpError extends Error {
  constructor(readonly errno: number) {
    super(`dump failed: errno ${errno}`);
  }
}
