import type { RawNetlinkSocket } from 'netlink';
import { NETLINK_NETFILTER } from './constants';
import { NftNetlinkTransportError } from './errors';
import { forceSendBuffer, preloadForceSendBuffer } from './force-send-buffer';
import { loadNetlinkAddon } from './netlink-addon';
import { OFF_THREAD_SEND_BYTES, preloadOffThreadSend, sendOffThread } from './off-thread-send';

/**
 * A NETLINK_NETFILTER socket reduced to datagrams: what the session needs, so the socket can be
 * in this process (NetlinkChannel) or in a relay process inside another network namespace
 * (NetnsChannel). Datagrams are sent in call order, each by its own sendmsg.
 */
export interface NfnetlinkChannel {
  /** Sends one datagram; resolves once it is handed to the kernel. */
  send(datagram: Buffer): Promise<void>;
  /** Receives every datagram the kernel sends to the socket. */
  onDatagram(listener: (datagram: Buffer) => void): void;
  /** The socket failed (ENOBUFS: replies were dropped) or the relay died. */
  onFailure(listener: (error: NftNetlinkTransportError) => void): void;
  /**
   * How many acknowledgements the socket's receive buffer can hold: the kernel queues a
   * batch's replies all at once, before the reader can drain any.
   */
  readonly ackCapacity: number;
  /** The largest datagram the socket may send now (the kernel refuses bigger ones with EMSGSIZE; 0: no fixed limit). */
  readonly maxDatagram: number;
  /**
   * Make room for one datagram of `bytes` (a batch must be one sendmsg to be atomic): raise the
   * send buffer past its usual cap. Resolves whether the datagram now fits.
   */
  fitDatagram?(bytes: number): Promise<boolean>;
  /** Get ready for fitDatagram ahead of the batch that needs it (load what it loads on first use). */
  prepareFit?(): Promise<void>;
  /** Keep the process alive while replies are awaited. */
  setActive(active: boolean): void;
  /** Closes the socket (or ends the relay). */
  close(): void;
}

/** One acknowledgement skb takes about this much of the receive buffer (truesize, rounded up). */
export const ACK_BUFFER_COST = 1024;
export const DEFAULT_SOCKET_BUFFER = 8 << 20;

/** A NETLINK_NETFILTER socket of the `netlink` package, in this process's network namespace. */
export class NetlinkChannel implements NfnetlinkChannel {
  private closed = false;
  /** The last send handed over (or failed), which the next one waits for. */
  private sending: Promise<unknown> = Promise.resolve();
  private failureListener: ((error: NftNetlinkTransportError) => void) | undefined;
  readonly ackCapacity: number;

  /** Opens the socket; the native addon is loaded here (NftNetlinkUnavailableError if it cannot). */
  static async open(bufferBytes = DEFAULT_SOCKET_BUFFER): Promise<NetlinkChannel> {
    const { RawNetlinkSocket } = await loadNetlinkAddon();
    return new NetlinkChannel(
      new RawNetlinkSocket(NETLINK_NETFILTER, { recvBufferSize: bufferBytes, sendBufferSize: bufferBytes }),
    );
  }

  constructor(private readonly socket: RawNetlinkSocket) {
    // SO_RCVBUF is capped by net.core.rmem_max; the kernel reports the doubled value it uses.
    this.ackCapacity = Math.max(16, Math.floor(socket.getRecvBufferSize() / ACK_BUFFER_COST));
    socket.unref();
    socket.on('error', (err) => {
      const errno = Math.abs((err as { errno?: number }).errno ?? 0);
      this.failureListener?.(new NftNetlinkTransportError(err.message, errno === 0 ? undefined : errno));
    });
    socket.on('truncatedMessage', () => {
      this.failureListener?.(new NftNetlinkTransportError('a reply was truncated'));
    });
  }

  /** netlink_sendmsg refuses datagrams longer than sk_sndbuf - 32 (getsockopt reports sk_sndbuf). */
  get maxDatagram(): number {
    return this.closed ? 0 : this.socket.getSendBufferSize() - 32;
  }

  async fitDatagram(bytes: number): Promise<boolean> {
    if (this.closed) return false;
    return bytes <= this.maxDatagram || forceSendBuffer(this.socket, bytes);
  }

  async prepareFit(): Promise<void> {
    await Promise.all([preloadForceSendBuffer(), preloadOffThreadSend()]);
  }

  /**
   * One sendmsg of `datagram`; a large one (a full sync's batch) from a worker thread, since the
   * kernel runs the batch inside that call (off-thread-send.ts), unless that cannot be done here.
   */
  send(datagram: Buffer): Promise<void> {
    // In call order, as the interface promises, whichever way each goes.
    const sent = this.sending.then(() => this.sendNow(datagram));
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  private async sendNow(datagram: Buffer): Promise<void> {
    if (this.closed) throw new NftNetlinkTransportError('the socket is closed');
    if (datagram.length >= OFF_THREAD_SEND_BYTES && (await sendOffThread(this.socket, datagram))) return;
    if (this.closed) throw new NftNetlinkTransportError('the socket is closed');
    await this.sendOnLoop(datagram);
  }

  /** The addon's send: sendmsg on the main thread, queued behind its earlier sends. */
  private sendOnLoop(datagram: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(datagram, {}, (err) => {
        if (err) reject(new NftNetlinkTransportError(`send failed: ${err.message}`, Math.abs(err.errno)));
        else resolve();
      });
    });
  }

  onDatagram(listener: (datagram: Buffer) => void): void {
    this.socket.on('message', (msg) => listener(msg));
  }

  onFailure(listener: (error: NftNetlinkTransportError) => void): void {
    this.failureListener = listener;
  }

  setActive(active: boolean): void {
    if (active) this.socket.ref();
    else this.socket.unref();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
