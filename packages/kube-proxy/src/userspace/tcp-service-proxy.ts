import net from 'node:net';
import { ListenError } from './errors';
import type { BalancerEndpoint } from './round-robin-balancer';
import type { ListenAddress, ServiceProxy, ServiceProxyOptions } from './service-proxy';

/** Normalises "::ffff:10.0.0.1" (IPv4 clients on a dual-stack socket) so affinity keys match. */
function clientIPOf(socket: net.Socket): string {
  const ip = socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function listenOnce(server: net.Server, servicePort: string, addr: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(new ListenError(servicePort, addr.host, addr.port, err));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: addr.host, port: addr.port, exclusive: true });
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/**
 * TCP proxy of one service port. Each accepted connection is joined to an endpoint picked
 * by the balancer; an endpoint that refuses (or does not answer within the attempt's dial
 * timeout) is skipped and the next one tried, up to `dialTimeoutsMs.length` attempts (a sole
 * endpoint is tried that many times). The two sockets are piped both ways, so a slow reader
 * pauses the writer (backpressure), and a FIN from either side is passed on as a FIN while the
 * other direction keeps flowing (half-close). Any socket error tears down that one connection
 * and is logged.
 */
export class TcpServiceProxy implements ServiceProxy {
  readonly protocol = 'TCP' as const;
  readonly servicePort: string;
  private readonly servers: net.Server[] = [];
  private readonly open = new Set<net.Socket>();

  constructor(private readonly opts: ServiceProxyOptions) {
    this.servicePort = opts.servicePort;
  }

  async listen(addresses: readonly ListenAddress[]): Promise<void> {
    try {
      for (const addr of addresses) {
        const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.accept(s));
        // Errors after listening (e.g. EMFILE on accept) must not crash the process.
        server.on('error', (err) =>
          this.opts.logger.error({ err, servicePort: this.servicePort }, 'listener error'),
        );
        await listenOnce(server, this.servicePort, addr);
        this.servers.push(server);
      }
    } catch (err) {
      await this.stopListening();
      throw err;
    }
  }

  boundPorts(): readonly number[] {
    return this.servers.map((s) => (s.address() as net.AddressInfo).port);
  }

  activeConnections(): number {
    return this.open.size;
  }

  async stopListening(): Promise<void> {
    const servers = this.servers.splice(0);
    // server.close() waits for open connections; we only want to stop accepting.
    await Promise.all(servers.map((s) => closeServer(s)));
  }

  async destroy(): Promise<void> {
    const closing = this.stopListening();
    for (const s of this.open) s.destroy();
    await closing;
  }

  private labels() {
    return { service_port: this.servicePort, protocol: 'TCP' };
  }

  private accept(client: net.Socket): void {
    const m = this.opts.metrics;
    const limit = this.opts.maxConnections;
    if (limit > 0 && this.open.size >= limit) {
      m?.connectionErrorsTotal.inc({ ...this.labels(), reason: 'limit' });
      this.opts.logger.warn({ servicePort: this.servicePort, limit }, 'connection limit reached, rejecting');
      client.destroy();
      return;
    }
    this.open.add(client);
    m?.connectionsTotal.inc(this.labels());
    m?.activeConnections.inc(this.labels());
    client.once('close', () => {
      this.open.delete(client);
      m?.activeConnections.dec(this.labels());
    });
    client.on('error', (err) =>
      this.opts.logger.debug({ err, servicePort: this.servicePort }, 'client connection error'),
    );
    client.setNoDelay(true);
    this.dial(client, clientIPOf(client), 0, new Set());
  }

  private dial(client: net.Socket, clientIP: string, attempt: number, refused: Set<string>): void {
    if (client.destroyed) return;
    const { balancer, dialTimeoutsMs } = this.opts;
    // Endpoints not yet tried come first; once all have failed, the next attempt tries them
    // again with its longer timeout, as upstream's tryConnect dials whatever is next.
    const ep =
      attempt < dialTimeoutsMs.length
        ? (balancer.pick(clientIP, refused) ?? balancer.pick(clientIP))
        : undefined;
    if (!ep) {
      const reason = refused.size === 0 ? 'no_endpoints' : 'dial';
      this.opts.metrics?.connectionErrorsTotal.inc({ ...this.labels(), reason });
      this.opts.logger.warn(
        { servicePort: this.servicePort, client: clientIP, tried: [...refused] },
        reason === 'no_endpoints'
          ? 'no endpoints, closing connection'
          : 'no endpoint accepted the connection',
      );
      // A reset tells the client at once, as the kernel modes' REJECT does.
      client.resetAndDestroy();
      return;
    }
    const backend = net.connect({ host: ep.ip, port: ep.port, allowHalfOpen: true });
    // Client gave up while we were dialling.
    const onClientClose = () => backend.destroy();
    let settled = false;
    const onDialError = (err: Error) => {
      if (settled) return;
      settled = true;
      client.off('close', onClientClose);
      backend.on('error', () => {});
      backend.destroy();
      this.opts.logger.debug(
        { err, servicePort: this.servicePort, endpoint: ep.endpoint },
        'endpoint dial failed',
      );
      refused.add(ep.endpoint);
      balancer.dropAffinity(clientIP);
      this.dial(client, clientIP, attempt + 1, refused);
    };
    client.once('close', onClientClose);
    // After a stalled event loop the timer fires in the same turn as a connect the kernel
    // finished long before; deferring past the poll phase lets that connect win.
    backend.setTimeout(dialTimeoutsMs[attempt]!, () =>
      setImmediate(() => onDialError(new Error('dial timeout'))),
    );
    backend.once('error', onDialError);
    backend.once('connect', () => {
      if (settled) return;
      settled = true;
      backend.off('error', onDialError);
      client.off('close', onClientClose);
      backend.setTimeout(0);
      this.join(client, backend, ep);
    });
  }

  private join(client: net.Socket, backend: net.Socket, ep: BalancerEndpoint): void {
    backend.setNoDelay(true);
    const fail = (side: string) => (err: Error) => {
      this.opts.logger.debug(
        { err, servicePort: this.servicePort, endpoint: ep.endpoint, side },
        'connection error',
      );
      client.destroy();
      backend.destroy();
    };
    // A reset or error on either side ends the pair; an orderly FIN only ends one direction,
    // and each socket closes by itself once both of its directions are done.
    backend.on('error', fail('endpoint'));
    client.on('error', fail('client'));
    // pipe() pauses the source when the destination's buffer is full and calls end() on EOF,
    // which with allowHalfOpen sends a FIN and keeps the other direction open.
    client.pipe(backend);
    backend.pipe(client);
    client.resume();
  }
}
