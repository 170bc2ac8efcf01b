import { connect, type Socket } from 'node:net';
import { listenInNetns } from './listen-in-netns';
import type { Netns } from './netns';

/** A TCP forwarder from inside a namespace to a host port (the in-process API server). */
export interface NetnsTcpBridge {
  /** The port on the namespace's 127.0.0.1 that reaches the host's `hostPort`. */
  readonly port: number;
  /** Stops forwarding and closes every forwarded connection. */
  close(): Promise<void>;
}

/**
 * Makes a TCP port on the host's loopback (the in-process API server's) reachable as
 * 127.0.0.1:`port` inside `ns`, which cannot see the host's loopback: this process accepts on a
 * listener bound inside the namespace (`listenInNetns`) and connects each connection on to
 * `hostPort`. TLS passes through untouched. For a server of this process, `ApiServer.serve` on
 * such a listener skips the hop.
 */
export async function bridgeIntoNetns(ns: Netns, hostPort: number, port = 6443): Promise<NetnsTcpBridge> {
  const listener = await listenInNetns(ns, port);
  const sockets = new Set<Socket>();
  listener.on('connection', (c: Socket) => {
    const up = connect(hostPort, '127.0.0.1');
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    c.pipe(up);
    up.pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}
