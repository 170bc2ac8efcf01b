import { Duplex } from 'node:stream';
import { STREAM_PROTOCOLS } from './stream-session';
import { openWebSocket, type StreamConnector, StreamingError, tcpConnector } from './websocket-client';

/**
 * Open one forwarded TCP connection to `port` inside the pod sandbox behind a PortForward URL.
 * The returned Duplex carries the connection's bytes. Over WebSocket each port has a data channel
 * (2·i) and an error channel (2·i+1). Newer servers open each channel with the port number (uint16,
 * little endian) as a message of its own, which is skipped here; containerd 1.6 sends none.
 */
export async function openPortForward(
  url: string,
  port: number,
  opts: { connector?: StreamConnector } = {},
): Promise<Duplex> {
  const u = new URL(url);
  u.searchParams.set('port', String(port));
  const ws = await openWebSocket(u.toString(), STREAM_PROTOCOLS, opts.connector ?? tcpConnector);
  const seenPrefix = [false, false];
  let errorText = '';
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      ws.send(Buffer.concat([Buffer.from([0]), chunk]));
      cb();
    },
    final(cb) {
      // v4 has no half-close: closing our side ends the forwarded connection.
      ws.close();
      cb();
    },
    destroy(err, cb) {
      ws.close();
      cb(err);
    },
  });
  ws.on('message', (m: Buffer) => {
    const channel = m[0];
    if (channel !== 0 && channel !== 1) return;
    const data = m.subarray(1);
    if (data.length === 0) return;
    if (!seenPrefix[channel]) {
      seenPrefix[channel] = true;
      // Newer servers announce the port as a message of its own; containerd 1.6's does not.
      if (data.length === 2 && data.readUInt16LE(0) === port) return;
    }
    if (channel === 0) duplex.push(data);
    else errorText += data.toString('utf8');
  });
  ws.on('close', () => {
    if (errorText) duplex.destroy(new StreamingError('PORT_FORWARD_FAILED', errorText));
    else duplex.push(null);
  });
  ws.on('error', (e: Error) => duplex.destroy(new StreamingError('TRANSPORT', e.message)));
  ws.start();
  return duplex;
}
