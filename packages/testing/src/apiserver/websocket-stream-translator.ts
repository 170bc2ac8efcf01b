import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError } from './api-error';
import { type KubeletClientOptions, type KubeletLocation, kubeletSocket } from './kubelet-connection';
import { SpdyClientSession, type SpdyStream } from './spdy-session';
import { acceptWebSocket } from './websocket-server';

/** kubectl's WebSocket remote-command protocol (client-go 1.30+). */
export const webSocketV5Protocol = 'v5.channel.k8s.io';

/** v5 channel ids; 255 carries "close channel N" (half-close of stdin). */
const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * Connects to the kubelet and upgrades to SPDY/3.1 with the given stream protocol; `protocol` is
 * the X-Stream-Protocol-Version the kubelet answered ('' when it named none).
 */
export function dialSpdy(
  location: KubeletLocation,
  options: KubeletClientOptions,
  path: string,
  streamProtocol: string,
): Promise<{ socket: Duplex; rest: Buffer; protocol: string }> {
  return new Promise((resolve, reject) => {
    const socket = kubeletSocket(location, options);
    let response = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      response = Buffer.concat([response, chunk]);
      const end = response.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      const head = response.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (status !== 101) {
        socket.destroy();
        const body = response
          .subarray(end + 4)
          .toString('utf8')
          .trim();
        reject(
          new ApiError(status || 502, 'InternalError', body || `kubelet answered ${head.split('\r\n')[0]}`),
        );
        return;
      }
      const protocol = /^x-stream-protocol-version:[ \t]*(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      resolve({ socket, rest: response.subarray(end + 4), protocol });
    };
    socket.on('data', onData);
    socket.once('error', (error) =>
      reject(new ApiError(503, 'ServiceUnavailable', `error dialing kubelet: ${error.message}`)),
    );
    socket.write(
      [
        `POST ${path} HTTP/1.1`,
        `Host: ${location.host}:${location.port}`,
        'Connection: Upgrade',
        'Upgrade: SPDY/3.1',
        `X-Stream-Protocol-Version: ${streamProtocol}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

/**
 * What kube-apiserver 1.30+ does for kubectl's WebSocket exec/attach: accept
 * v5.channel.k8s.io from the client and speak SPDY/3.1 (v4.channel.k8s.io) to the kubelet,
 * relaying channel messages to and from the error/stdin/stdout/stderr/resize streams. A v5
 * close-channel message half-closes stdin. If the kubelet refuses, the client gets that refusal
 * before any upgrade (kubectl then retries over SPDY itself). Returns the stream protocol the
 * kubelet answered.
 */
export async function translateWebSocketToSpdy(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  location: KubeletLocation,
  kubelet: KubeletClientOptions,
  path: string,
  flags: StreamFlags,
): Promise<string> {
  const { socket, rest, protocol } = await dialSpdy(location, kubelet, path, 'v4.channel.k8s.io');
  const ws = acceptWebSocket(req, client, webSocketV5Protocol, head);
  const session = new SpdyClientSession(socket);
  const open = (type: string): SpdyStream => session.openStream({ streamType: type });
  const errorStream = open('error');
  const stdin = flags.stdin ? open('stdin') : undefined;
  const outputs: [SpdyStream, number][] = [];
  if (flags.stdout) outputs.push([open('stdout'), Channel.stdout]);
  if (flags.stderr && !flags.tty) outputs.push([open('stderr'), Channel.stderr]);
  const resize = flags.tty ? open('resize') : undefined;

  const channelMessage = (channel: number, data: Buffer) => Buffer.concat([Buffer.from([channel]), data]);
  for (const [stream, channel] of outputs)
    stream.on('data', (data) => ws.send(channelMessage(channel, data)));
  const status: Buffer[] = [];
  errorStream.on('data', (data) => status.push(data));

  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    // The error channel carries the final metav1.Status (exit code) and ends the session.
    if (status.length > 0) ws.send(channelMessage(Channel.error, Buffer.concat(status)));
    ws.close();
    session.close();
  };
  session.on('close', finish);
  ws.on('close', () => {
    if (!finished) {
      finished = true;
      session.close();
    }
  });
  ws.on('message', (message) => {
    const channel = message[0];
    const data = message.subarray(1);
    if (channel === Channel.stdin) stdin?.write(data);
    else if (channel === Channel.resize) resize?.write(data);
    else if (channel === Channel.close && data[0] === Channel.stdin) stdin?.end();
  });
  session.feed(rest);
  socket.resume();
  return protocol;
}
