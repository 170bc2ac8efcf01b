import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeletClientOptions, KubeletLocation } from './kubelet-connection';
import { acceptWebSocket } from './websocket-server';
import { dialSpdy } from './websocket-stream-translator';

/** kubectl port-forward's WebSocket subprotocol (client-go 1.31+): SPDY frames carried in binary messages. */
export const spdyTunnelProtocol = 'SPDY/3.1+portforward.k8s.io';

/**
 * What kube-apiserver does for kubectl's WebSocket port-forward: upgrade to SPDY/3.1
 * (portforward.k8s.io) towards the kubelet, accept the WebSocket, and carry the SPDY bytes
 * unchanged — each binary message from the client onto the kubelet connection, everything the
 * kubelet sends back as binary messages. A kubelet refusal is returned before the upgrade.
 * Returns the stream protocol the kubelet answered.
 */
export async function tunnelSpdyOverWebSocket(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  location: KubeletLocation,
  kubelet: KubeletClientOptions,
  path: string,
): Promise<string> {
  const { socket, rest, protocol } = await dialSpdy(location, kubelet, path, 'portforward.k8s.io');
  const ws = acceptWebSocket(req, client, spdyTunnelProtocol, head);
  if (rest.length > 0) ws.send(rest);
  socket.on('data', (chunk: Buffer) => ws.send(chunk));
  socket.on('close', () => ws.close());
  socket.on('error', () => ws.close());
  ws.on('message', (message) => {
    if (!socket.destroyed) socket.write(message);
  });
  ws.on('close', () => socket.destroy());
  socket.resume();
  return protocol;
}
