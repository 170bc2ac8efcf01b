import { connect, createServer, type NetConnectOpts, type Server, type Socket } from 'node:net';

/**
 * A byte relay between two socket addresses. The demo needs two: the API server listens on host
 * loopback, which the node's network namespace cannot reach; a unix socket (not namespaced) bridges
 * the two — host side unix → TCP, namespace side TCP → unix.
 */
export interface SocketRelay {
  server: Server;
  close(): Promise<void>;
}

export async function startSocketRelay(
  listen: { path: string } | { host: string; port: number },
  target: NetConnectOpts,
): Promise<SocketRelay> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      // Either side failing ends both; errors are expected when a peer goes away.
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
