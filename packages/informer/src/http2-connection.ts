import type { ClientHttp2Session, ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';

/** client-go's HTTP/2 health check and idle limit, in milliseconds; a read idle time of 0 turns the check off. */
export interface Http2Health {
  /** How long the connection may read nothing before it is pinged (HTTP2_READ_IDLE_TIMEOUT_SECONDS, 30 s). */
  readIdleMs: number;
  /** How long a ping may go unanswered before the connection is given up (HTTP2_PING_TIMEOUT_SECONDS, 15 s). */
  pingTimeoutMs: number;
  /** How long the connection may carry no stream before it is closed (IdleConnTimeout, 90 s). */
  idleMs: number;
  /** The clock idle time is read from (milliseconds). */
  now: () => number;
}

/**
 * One HTTP/2 connection to an API server and the streams on it, as client-go's http2 transport
 * keeps it:
 * - every request of every client with the same server and TLS material is a stream on it;
 * - a connection that has read nothing for `readIdleMs` is pinged, and destroyed when the ping
 *   goes unanswered for `pingTimeoutMs` (a peer gone without a FIN would otherwise hold every
 *   watch until the kernel gives up on the socket, minutes later);
 * - it keeps the process alive only while a stream is open (an idle HTTP/1.1 keep-alive socket
 *   does not either), and closes after `idleMs` without one.
 */
export class Http2Connection {
  private streams = 0;
  private idleSince: number;
  private readAtLastCheck = -1;
  private readonly timer: NodeJS.Timeout;
  private goneAway = false;

  constructor(
    readonly session: ClientHttp2Session,
    /** The TLS connection under the session (its byte counts; the session's own proxy of it is per session). */
    readonly socket: TLSSocket,
    private readonly health: Http2Health,
  ) {
    this.idleSince = health.now();
    // A session's own failure (a reset connection) reaches its streams and closes it; this
    // listener only keeps the error from being thrown as unhandled.
    session.on('error', () => undefined);
    session.once('goaway', () => {
      this.goneAway = true;
    });
    session.unref();
    const period = health.readIdleMs > 0 ? health.readIdleMs : health.idleMs;
    this.timer = setInterval(() => this.check(), period);
    this.timer.unref();
    session.once('close', () => clearInterval(this.timer));
  }

  /** Whether new streams may start here: not closing, not told to go away. */
  get usable(): boolean {
    return !this.goneAway && !this.session.closed && !this.session.destroyed;
  }

  /** Starts a request on this connection. */
  request(headers: OutgoingHttpHeaders, endStream: boolean): ClientHttp2Stream {
    const stream = this.session.request(headers, { endStream });
    if (this.streams++ === 0) this.session.ref();
    stream.once('close', () => {
      if (--this.streams > 0) return;
      this.idleSince = this.health.now();
      if (!this.session.destroyed) this.session.unref();
    });
    return stream;
  }

  /** Ends the connection at once: every open stream fails with `reason`. */
  destroy(reason: Error): void {
    this.session.destroy(reason);
    this.socket.destroy();
  }

  /** Each period: close when idle long enough, else ping when nothing was read since the last check. */
  private check(): void {
    if (this.session.closed || this.session.destroyed) return;
    if (this.streams === 0 && this.health.now() - this.idleSince >= this.health.idleMs) {
      this.session.close();
      return;
    }
    if (this.health.readIdleMs <= 0) return;
    const read = this.socket.bytesRead;
    if (read !== this.readAtLastCheck) {
      this.readAtLastCheck = read;
      return;
    }
    this.ping();
  }

  private ping(): void {
    const lost = setTimeout(
      () => this.session.destroy(new Error('http2: client connection lost')),
      this.health.pingTimeoutMs,
    );
    lost.unref();
    const sent = this.session.ping((err) => {
      clearTimeout(lost);
      if (err && !this.session.destroyed) this.session.destroy(err);
    });
    // Too many pings outstanding already: the earlier one's timer stands.
    if (!sent) clearTimeout(lost);
  }
}
