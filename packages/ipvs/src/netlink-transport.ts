import { getSystemErrorName } from 'node:util';
import { createNetlink, type NetlinkMessage, type NetlinkSocket } from 'netlink';
import { NlmType } from './constants';
import { IpvsClosedError } from './errors';
import { type GenlTransport, NetlinkErrnoError } from './transport';

const NETLINK_GENERIC = 16;

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

/** A NETLINK_GENERIC socket from the `netlink` package's native addon, in this process's netns. */
export class NetlinkTransport implements GenlTransport {
  private readonly socket: NetlinkSocket;
  private closed = false;
  private lastError: Error | undefined;

  constructor(bufferBytes = 8 << 20) {
    this.socket = createNetlink(NETLINK_GENERIC, {
      recvBufferSize: bufferBytes,
      sendBufferSize: bufferBytes,
    });
    // Without a listener an 'error' event would crash the process.
    this.socket.on('error', (err) => {
      this.lastError = err;
    });
  }

  async request(type: number, flags: number, payload: Buffer): Promise<Buffer[]> {
    if (this.closed) throw new IpvsClosedError();
    let msgs: NetlinkMessage[];
    try {
      [msgs] = await this.socket.request(type, payload, { flags, checkError: false });
    } catch (err) {
      throw this.lastError ?? err;
    }
    const out: Buffer[] = [];
    for (const m of msgs) {
      if (m.type === NlmType.ERROR) {
        const code = m.data.length >= 4 ? m.data.readInt32LE(0) : 0;
        if (code !== 0) throw new NetlinkErrnoError(-code, errnoName(-code));
        continue;
      }
      if (m.type === NlmType.NOOP || m.type === NlmType.DONE) continue;
      out.push(m.data);
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
