import { connect, createServer, type Server, type Socket } from 'node:net';

/** A TCP relay to a local port: the connections clients opened through it, and a switch that stops it carrying bytes. */
export interface TcpRelay {
  server: Server;
  /** The loopback port clients connect to. */
  port: number;
  /** How many connections clients have opened through it. */
  connections(): number;
  /**
   * Stops carrying bytes either way on every connection open now, which stays open: a peer gone
   * without a FIN (a node's network cut, a load balancer that dropped its state). Connections
   * opened later are carried.
   */
  freeze(): void;
}

/**
 * Starts a relay on a loopback port to `port` on 127.0.0.1 (an API server's), to count the
 * connections a client opens and to make them hang. Close it with `relay.server.close()`.
 */
export async function startTcpRelay(port: number): Promise<TcpRelay> {
  let connections = 0;
  const pairs: [Socket, Socket][] = [];
  const server = createServer((client) => {
    connections++;
    const upstream = connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    pairs.push([client, upstream]);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    freeze: () => {
      for (const [client, upstream] of pairs.splice(0)) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
  };
}
