import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { ListenError } from './errors';
import type { BalancerEndpoint } from './round-robin-balancer';
import type { ListenAddress, ServiceProxy, ServiceProxyOptions } from './service-proxy';

/** One client ("ip:port") talking to one endpoint through its own socket. */
interface UdpSession {
  readonly endpoint: BalancerEndpoint;
  readonly upstream: dgram.Socket;
  lastActivityMs: number;
  timer: unknown;
}

function bindOnce(socket: dgram.Socket, servicePort: string, addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.off('listening', onListening);
      reject(new ListenError(servicePort, addr.host, addr.port, err));
    };
    const onListening = () => {
      socket.off('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ address: addr.host, port: addr.port, exclusive: true });
  });
}

/**
 * UDP proxy of one service port. Datagrams from a new client address open a session: an
 * endpoint picked by the balancer and a socket of our own towards it, so replies can be told
 * apart per client and sent back from the service address the client used. A session ends
 * after `udpIdleTimeoutMs` without traffic either way (upstream's --udp-timeout).
 */
export class UdpServiceProxy implements ServiceProxy {
  readonly protocol = 'UDP' as const;
  readonly servicePort: string;
  private readonly sockets: dgram.Socket[] = [];
  /** Sessions by listener index and client "ip:port". */
  private readonly sessions = new Map<string, UdpSession>();

  constructor(private readonly opts: ServiceProxyOptions) {
    this.servicePort = opts.servicePort;
  }

  async listen(addresses: readonly ListenAddress[]): Promise<void> {
    try {
      for (const addr of addresses) {
        const socket = dgram.createSocket({ type: isIPv6(addr.host) ? 'udp6' : 'udp4' });
        await bindOnce(socket, this.servicePort, addr);
        socket.on('error', (err) =>
          this.opts.logger.error({ err, servicePort: this.servicePort }, 'UDP listener error'),
        );
        socket.on('message', (msg, rinfo) => this.onClientMessage(socket, msg, rinfo));
        this.sockets.push(socket);
      }
    } catch (err) {
      await this.stopListening();
      throw err;
    }
  }

  boundPorts(): readonly number[] {
    return this.sockets.map((s) => s.address().port);
  }

  activeConnections(): number {
    return this.sessions.size;
  }

  /**
   * UDP has no connections to drain: replies travel through the listening socket, so closing
   * it ends the sessions too.
   */
  async stopListening(): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.endSession(key);
    const sockets = this.sockets.splice(0);
    await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  destroy(): Promise<void> {
    return this.stopListening();
  }

  /** Ends sessions whose endpoint left the service (upstream clears their conntrack entries). */
  dropSessionsNotIn(present: (endpoint: string) => boolean): void {
    for (const [key, s] of this.sessions) if (!present(s.endpoint.endpoint)) this.endSession(key);
  }

  private labels() {
    return { service_port: this.servicePort, protocol: 'UDP' };
  }

  private onClientMessage(listener: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const index = this.sockets.indexOf(listener);
    const key = `${index}|${rinfo.address}|${rinfo.port}`;
    let session = this.sessions.get(key);
    if (!session) {
      session = this.openSession(listener, key, rinfo);
      if (!session) return;
    }
    session.lastActivityMs = this.opts.clock.now();
    const { endpoint } = session;
    session.upstream.send(msg, endpoint.port, endpoint.ip, (err) => {
      if (err)
        this.opts.logger.debug(
          { err, servicePort: this.servicePort, endpoint: endpoint.endpoint },
          'send failed',
        );
    });
  }

  private openSession(listener: dgram.Socket, key: string, rinfo: dgram.RemoteInfo): UdpSession | undefined {
    const m = this.opts.metrics;
    const limit = this.opts.maxConnections;
    if (limit > 0 && this.sessions.size >= limit) {
      m?.connectionErrorsTotal.inc({ ...this.labels(), reason: 'limit' });
      return undefined;
    }
    const endpoint = this.opts.balancer.pick(rinfo.address);
    if (!endpoint) {
      m?.connectionErrorsTotal.inc({ ...this.labels(), reason: 'no_endpoints' });
      return undefined;
    }
    const upstream = dgram.createSocket({ type: isIPv6(endpoint.ip) ? 'udp6' : 'udp4' });
    const session: UdpSession = {
      endpoint,
      upstream,
      lastActivityMs: this.opts.clock.now(),
      timer: undefined,
    };
    upstream.on('message', (reply, from) => {
      // Only the chosen endpoint may answer through this session.
      if (from.address !== endpoint.ip || from.port !== endpoint.port) return;
      session.lastActivityMs = this.opts.clock.now();
      listener.send(reply, rinfo.port, rinfo.address, (err) => {
        if (err) this.opts.logger.debug({ err, servicePort: this.servicePort }, 'reply to client failed');
      });
    });
    upstream.on('error', (err) => {
      this.opts.logger.debug(
        { err, servicePort: this.servicePort, endpoint: endpoint.endpoint },
        'UDP session error',
      );
      this.opts.balancer.dropAffinity(rinfo.address);
      this.endSession(key);
    });
    this.sessions.set(key, session);
    m?.connectionsTotal.inc(this.labels());
    m?.activeConnections.inc(this.labels());
    this.armIdleTimer(key, session, this.opts.udpIdleTimeoutMs);
    return session;
  }

  // One timer per session, re-armed for the remaining time instead of reset on every datagram.
  private armIdleTimer(key: string, session: UdpSession, ms: number): void {
    session.timer = this.opts.clock.setTimeout(() => {
      if (this.sessions.get(key) !== session) return;
      const idle = this.opts.clock.now() - session.lastActivityMs;
      const left = this.opts.udpIdleTimeoutMs - idle;
      if (left > 0) this.armIdleTimer(key, session, left);
      else this.endSession(key);
    }, ms);
  }

  private endSession(key: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    this.opts.clock.clearTimeout(session.timer);
    try {
      session.upstream.close();
    } catch {
      // Already closed after an error.
    }
    this.opts.metrics?.activeConnections.dec(this.labels());
  }
}
