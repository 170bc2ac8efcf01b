import { connect, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import type { ApiServer } from '@nodeagent/testing';

/** A TCP relay to an API server: the connections clients opened through it, and a switch that stops it carrying bytes. */
export interface CountingRelay {
  server: Server;
  port: number;
  connections(): number;
  /** Stops carrying bytes either way while every connection stays open: a peer gone without a FIN. */
  freeze(): void;
}

/** A TCP relay to `port` that counts the connections clients opened through it. */
export async function countingRelay(port: number): Promise<CountingRelay> {
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
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
  };
}

/** `api`'s kubeconfig with its server's address replaced by the relay's port. */
export function throughRelay(api: ApiServer, port: number): KubeConfig {
  const kc = new KubeConfig();
  const source = api.kubeConfig();
  kc.loadFromOptions({
    clusters: source.getClusters().map((c) => ({ ...c, server: c.server.replace(/:\d+$/, `:${port}`) })),
    users: source.getUsers(),
    contexts: source.getContexts(),
    currentContext: source.getCurrentContext(),
  });
  return kc;
}
