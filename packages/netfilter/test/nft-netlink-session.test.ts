import { describe, expect, it } from 'vitest';
import { BatchBuffer } from '../src/nftables/netlink/batch-buffer';
import type { NfnetlinkChannel } from '../src/nftables/netlink/channel';
import {
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NftMsg,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
} from '../src/nftables/netlink/constants';
import { NftNetlinkTransportError } from '../src/nftables/netlink/errors';
import { nftMessageType, type ReceivedMessage, splitMessages } from '../src/nftables/netlink/message';
import { DumpError, NfnetlinkSession } from '../src/nftables/netlink/session';

function header(type: number, flags: number, seq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  return Buffer.concat([h, body]);
}

/** NLMSG_ERROR answering `to` with `errno` (0: an ACK). */
function errorReply(to: ReceivedMessage, errno: number): Buffer {
  const body = Buffer.alloc(20);
  body.writeInt32LE(-errno, 0);
  body.writeUInt32LE(16, 4);
  body.writeUInt16LE(to.type, 8);
  body.writeUInt32LE(to.seq, 12);
  return header(NLMSG_ERROR, 0, to.seq, body);
}

/**
 * A kernel stand-in: answers batches as nfnetlink does (an ACK or error per message, by
 * position) and dumps with `dumpReplies` then NLMSG_DONE.
 */
class FakeKernel implements NfnetlinkChannel {
  readonly sent: ReceivedMessage[][] = [];
  listener: (d: Buffer) => void = () => {};
  failure: (e: NftNetlinkTransportError) => void = () => {};
  active: boolean[] = [];
  maxDatagram = 1 << 20;
  constructor(
    readonly ackCapacity = 100,
    /** errno per batch message position (0-based, after BEGIN). */
    readonly errnos: ReadonlyMap<number, number> = new Map(),
    readonly dumpReplies: Buffer[] = [],
    readonly dumpErrno = 0,
  ) {}
  async send(datagram: Buffer): Promise<void> {
    const messages = splitMessages(datagram);
    this.sent.push(messages);
    const replies: Buffer[] = [];
    if (messages[0]?.type === NFNL_MSG_BATCH_BEGIN) {
      messages.slice(1).forEach((m, i) => {
        if (m.type === NFNL_MSG_BATCH_END) return;
        const errno = this.errnos.get(i) ?? 0;
        if (errno !== 0 || m.flags & NLM_F_ACK) replies.push(errorReply(m, errno));
      });
    } else if (messages[0]?.type === NLMSG_NOOP) {
      replies.push(errorReply(messages[0], 0));
    } else if (messages[0] && messages[0].flags & NLM_F_DUMP) {
      const seq = messages[0].seq;
      if (this.dumpErrno) replies.push(errorReply(messages[0], this.dumpErrno));
      else {
        for (const body of this.dumpReplies) replies.push(header(messages[0].type, 2, seq, body));
        replies.push(header(NLMSG_DONE, 2, seq, Buffer.alloc(4)));
      }
    }
    // Replies arrive later, as from a socket; one datagram each.
    setImmediate(() => {
      for (const r of replies) this.listener(r);
    });
  }
  onDatagram(listener: (d: Buffer) => void): void {
    this.listener = listener;
  }
  onFailure(listener: (e: NftNetlinkTransportError) => void): void {
    this.failure = listener;
  }
  setActive(active: boolean): void {
    this.active.push(active);
  }
  close(): void {}
}

const item = (msg: number) => ({
  type: nftMessageType(msg),
  flags: 0,
  family: 2,
  attributes: Buffer.alloc(0),
});

/** The items as an encoded batch (what the encoder writes). */
function batchOf(items: readonly ReturnType<typeof item>[]): BatchBuffer {
  const batch = new BatchBuffer();
  for (const i of items) batch.append(i.type, i.flags, i.family, i.attributes, '', 0);
  return batch;
}

describe('nfnetlink session', () => {
  it('frames a batch BEGIN … END with consecutive seqs, no ACK asked per message, then a separate NOOP barrier', async () => {
    const kernel = new FakeKernel();
    const session = new NfnetlinkSession(kernel, 100);
    const outcome = await session.batch(batchOf([item(NftMsg.NEWTABLE), item(NftMsg.NEWCHAIN)]));
    expect(outcome).toEqual({ errors: [undefined, undefined], acknowledged: false });
    expect(kernel.sent).toHaveLength(2);
    const [batch, barrier] = kernel.sent as [ReceivedMessage[], ReceivedMessage[]];
    expect(batch.map((m) => [m.type, m.seq])).toEqual([
      [NFNL_MSG_BATCH_BEGIN, 101],
      [nftMessageType(NftMsg.NEWTABLE), 102],
      [nftMessageType(NftMsg.NEWCHAIN), 103],
      [NFNL_MSG_BATCH_END, 104],
    ]);
    expect(batch.slice(1, 3).some((m) => m.flags & NLM_F_ACK)).toBe(false);
    // res_id of BEGIN/END is NFNL_SUBSYS_NFTABLES, big-endian.
    expect(batch[0]?.body.readUInt16BE(2)).toBe(10);
    expect(barrier.map((m) => [m.type, m.seq])).toEqual([[NLMSG_NOOP, 105]]);
    expect(kernel.active).toEqual([true, false]);
  });

  it("refuses a batch over the socket's datagram limit before sending anything", async () => {
    const kernel = new FakeKernel();
    kernel.maxDatagram = 100;
    const session = new NfnetlinkSession(kernel, 0);
    const big = { ...item(NftMsg.NEWSETELEM), attributes: Buffer.alloc(200) };
    await expect(session.batch(batchOf([big]))).rejects.toMatchObject({
      code: 'NFT_BATCH_TOO_LARGE',
      bytes: 260,
      limit: 100,
    });
    expect(kernel.sent).toHaveLength(0);
  });

  it('maps each error to the message that caused it', async () => {
    const kernel = new FakeKernel(
      100,
      new Map([
        [1, 2],
        [2, 17],
      ]),
    );
    const session = new NfnetlinkSession(kernel, 0);
    const outcome = await session.batch(
      batchOf([item(NftMsg.NEWTABLE), item(NftMsg.DELCHAIN), item(NftMsg.NEWSET)]),
    );
    expect(outcome.errors).toEqual([undefined, 2, 17]);
  });

  it('ackEach asks for an ACK on each message, the barrier still ends the exchange', async () => {
    const kernel = new FakeKernel(100, new Map([[1, 17]]));
    const session = new NfnetlinkSession(kernel, 0);
    const outcome = await session.batch(batchOf([item(0), item(3), item(3)]), {
      commit: true,
      ackEach: true,
    });
    expect(outcome).toEqual({ errors: [undefined, 17, undefined], acknowledged: true });
    expect(kernel.sent[0]?.slice(1, 4).every((m) => m.flags & NLM_F_ACK)).toBe(true);
  });

  it('ackEach asks for no ACKs when the socket buffer could not hold them, and still gets the errors', async () => {
    const kernel = new FakeKernel(2, new Map([[2, 22]]));
    const session = new NfnetlinkSession(kernel, 0);
    const outcome = await session.batch(batchOf([item(0), item(3), item(3)]), {
      commit: true,
      ackEach: true,
    });
    expect(outcome.acknowledged).toBe(false);
    expect(kernel.sent[0]?.slice(1, 4).some((m) => m.flags & NLM_F_ACK)).toBe(false);
    expect(outcome.errors).toEqual([undefined, undefined, 22]);
  });

  it('check mode leaves out BATCH_END so the kernel aborts', async () => {
    const kernel = new FakeKernel();
    const session = new NfnetlinkSession(kernel, 0);
    await session.batch(batchOf([item(0)]), { commit: false });
    expect(kernel.sent[0]?.map((m) => m.type)).toEqual([NFNL_MSG_BATCH_BEGIN, nftMessageType(0)]);
  });

  it('collects dump replies until NLMSG_DONE, and turns an error reply into DumpError', async () => {
    const replies = [Buffer.from('02000000', 'hex'), Buffer.from('02000001', 'hex')];
    const session = new NfnetlinkSession(new FakeKernel(100, new Map(), replies), 0);
    const bodies = await session.dump(nftMessageType(NftMsg.GETTABLE), 2, Buffer.alloc(0));
    expect(bodies).toEqual(replies);
    const failing = new NfnetlinkSession(new FakeKernel(100, new Map(), [], 2), 0);
    await expect(failing.dump(nftMessageType(NftMsg.GETSET), 2, Buffer.alloc(0))).rejects.toEqual(
      new DumpError(2),
    );
  });

  it('fails the pending exchange when the socket reports lost replies, and serializes the next one after it', async () => {
    const kernel = new FakeKernel();
    // Nothing answers this batch: the socket reports ENOBUFS instead.
    kernel.send = async (datagram) => {
      kernel.sent.push(splitMessages(datagram));
      setImmediate(() => kernel.failure(new NftNetlinkTransportError('No buffer space available', 105)));
    };
    const session = new NfnetlinkSession(kernel, 0);
    await expect(session.batch(batchOf([item(0)]))).rejects.toMatchObject({
      code: 'NFT_NETLINK_TRANSPORT',
      errno: 105,
    });
    session.close();
    await expect(session.batch(batchOf([item(0)]))).rejects.toThrow(/closed/);
  });
});
