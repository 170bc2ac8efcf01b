import { encodeNetlinkMessage, errnoName } from '@nodeagent/primitives/netlink';
import type { NetlinkMessage, NetlinkSocket } from 'netlink';
import { NlmFlag, NlmType } from './constants';
import { IpvsClosedError, IpvsKernelError } from './errors';
import { loadNetlinkAddon } from './netlink-addon';
import { type BatchMessage, type GenlTransport, NetlinkErrnoError } from './transport';

const NETLINK_GENERIC = 16;

function errorOf(m: NetlinkMessage): NetlinkErrnoError | undefined {
  const code = m.data.length >= 4 ? m.data.readInt32LE(0) : 0;
  return code === 0 ? undefined : new NetlinkErrnoError(-code, errnoName(-code));
}

interface PendingBatch {
  results: (NetlinkErrnoError | undefined)[];
  firstSeq: number;
  resolve: (r: (NetlinkErrnoError | undefined)[]) => void;
  reject: (e: Error) => void;
}

/** A NETLINK_GENERIC socket from the `netlink` package's native addon, in this process's netns. */
export class NetlinkTransport implements GenlTransport {
  private closed = false;
  private lastError: Error | undefined;
  /** Batches by the sequence number of their closing NOOP; message seqs run from firstSeq. */
  private readonly batches = new Map<number, PendingBatch>();

  /**
   * Opens a socket with `bufferBytes` of kernel buffer each way. The native addon is loaded
   * here, on first use: IpvsUnavailableError (with the reason) when it cannot load.
   */
  static async open(bufferBytes = 8 << 20): Promise<NetlinkTransport> {
    const { createNetlink } = await loadNetlinkAddon();
    return new NetlinkTransport(
      createNetlink(NETLINK_GENERIC, { recvBufferSize: bufferBytes, sendBufferSize: bufferBytes }),
    );
  }

  /** Wraps a NETLINK_GENERIC socket made with the `netlink` package (see `open`). */
  constructor(private readonly socket: NetlinkSocket) {
    // Without a listener an 'error' event would crash the process. ENOBUFS means replies were
    // dropped: the outcome of pending batches is unknown, so they fail rather than guess.
    this.socket.on('error', (err) => {
      this.lastError = err;
      this.failBatches(err);
    });
    // Replies nobody asked for through request(): failures inside batches and their closing ACKs.
    this.socket.on('message', (msgs) => {
      for (const m of msgs) if (m.type === NlmType.ERROR) this.onBatchReply(m);
    });
  }

  async request(type: number, flags: number, payload: Buffer): Promise<Buffer[]> {
    if (this.closed) throw new IpvsClosedError();
    let msgs: NetlinkMessage[];
    try {
      [msgs] = await this.socket.request(type, payload, { flags, checkError: false });
    } catch (err) {
      throw this.lastError ?? err;
    }
    const out: Buffer[] = [];
    for (const m of msgs) {
      if (m.type === NlmType.ERROR) {
        const err = errorOf(m);
        if (err) throw err;
        continue;
      }
      if (m.type === NlmType.NOOP || m.type === NlmType.DONE) continue;
      out.push(m.data);
    }
    return out;
  }

  requestBatch(type: number, messages: readonly BatchMessage[]): Promise<(NetlinkErrnoError | undefined)[]> {
    if (this.closed) return Promise.reject(new IpvsClosedError());
    const port = this.socket.address().port;
    const parts: Buffer[] = [];
    let firstSeq = -1;
    for (const m of messages) {
      const seq = this.socket.generateSeq();
      if (firstSeq < 0) firstSeq = seq;
      parts.push(encodeNetlinkMessage(type, NlmFlag.REQUEST | m.flags, seq, port, m.payload));
    }
    const barrier = this.socket.generateSeq();
    if (firstSeq < 0) firstSeq = barrier;
    parts.push(
      encodeNetlinkMessage(NlmType.NOOP, NlmFlag.REQUEST | NlmFlag.ACK, barrier, port, Buffer.alloc(0)),
    );
    return new Promise((resolve, reject) => {
      this.batches.set(barrier, {
        results: new Array(messages.length).fill(undefined),
        firstSeq,
        resolve,
        reject,
      });
      // Keep the event loop alive until the closing ACK arrives.
      this.socket.ref(true);
      this.socket.socket.send(parts, {}, (err) => {
        if (err) this.settle(barrier, err);
      });
    });
  }

  private onBatchReply(m: NetlinkMessage): void {
    const done = this.batches.get(m.seq);
    if (done) {
      this.settle(m.seq);
      return;
    }
    for (const b of this.batches.values()) {
      const i = (m.seq - b.firstSeq) >>> 0;
      if (i < b.results.length) {
        b.results[i] = errorOf(m);
        return;
      }
    }
  }

  private settle(barrier: number, err?: Error): void {
    const b = this.batches.get(barrier);
    if (!b) return;
    this.batches.delete(barrier);
    if (this.batches.size === 0) this.socket.ref(false);
    if (err) b.reject(err);
    else b.resolve(b.results);
  }

  private failBatches(err: Error): void {
    const errno = (err as { errno?: number }).errno ?? 0;
    for (const barrier of [...this.batches.keys()]) {
      this.settle(
        barrier,
        new IpvsKernelError(Math.abs(errno), errnoName(errno), 'batch', 'replies lost; outcome unknown'),
      );
    }
  }

  /** Closes the socket; pending batches reject with IpvsClosedError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const barrier of [...this.batches.keys()]) this.settle(barrier, new IpvsClosedError());
    this.socket.close();
  }
}
