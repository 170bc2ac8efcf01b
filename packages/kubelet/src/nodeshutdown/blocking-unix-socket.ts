import { systemReason } from '@nodeagent/primitives';
import { type Koffi, loadLibc } from '../libc';

// Node's net sockets drop ancillary data, so a file descriptor sent with SCM_RIGHTS (D-Bus type
// 'h', as logind's Inhibit returns its lock) never reaches JavaScript. This socket is made with
// libc through koffi (../libc.ts), blocking with send/receive timeouts. It is meant for one
// short exchange; the event loop waits while it blocks, for at most the timeout per call.

// Linux x86-64/arm64 constants (sys/socket.h, asm-generic/socket.h).
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;
const MSG_NOSIGNAL = 0x4000;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;

// struct msghdr (56 bytes), one struct iovec (16), then room for a cmsghdr with up to 16 fds.
const MSGHDR = 56;
const IOVEC = 16;
const CONTROL = 16 + 4 * 16;
const DATA = 4096;

interface Libc {
  koffi: Koffi;
  socket: (domain: number, type: number, protocol: number) => number;
  connect: (fd: number, address: Buffer, length: number) => number;
  send: (fd: number, data: Buffer, length: number, flags: number) => number;
  recvmsg: (fd: number, message: unknown, flags: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, length: number) => number;
  close: (fd: number) => number;
}

let libc: Promise<Libc> | undefined;

function loadSocketCalls(): Promise<Libc> {
  libc ??= loadLibc()
    .then(
      ({ koffi, libc: lib }) =>
        ({
          koffi,
          socket: lib.func('int socket(int, int, int)'),
          connect: lib.func('int connect(int, const void *, uint32_t)'),
          send: lib.func('intptr_t send(int, const void *, size_t, int)'),
          recvmsg: lib.func('intptr_t recvmsg(int, void *, int)'),
          setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)'),
          close: lib.func('int close(int)'),
        }) as Libc,
    )
    .catch((error: unknown) => {
      libc = undefined;
      throw new Error(`file descriptor passing unsupported in this platform: ${(error as Error).message}`);
    });
  return libc;
}

function errnoError(koffi: Koffi, call: string): Error {
  const errno = koffi.errno();
  return new Error(`${call}: ${errno > 0 ? systemReason({ errno: -errno }) : `errno ${errno}`}`);
}

/** Bytes read and the descriptors that came with them (SCM_RIGHTS), in order. */
export interface Received {
  data: Buffer;
  fds: number[];
}

/**
 * A blocking unix stream socket that can receive file descriptors. Open with
 * {@link BlockingUnixSocket.connect}; always {@link close} it (descriptors received and not
 * taken are the caller's to close).
 */
export class BlockingUnixSocket {
  private readonly memory: unknown;
  private readonly view: Buffer;

  private constructor(
    private readonly lib: Libc,
    private fd: number,
  ) {
    this.memory = lib.koffi.alloc('uint8_t', MSGHDR + IOVEC + CONTROL + DATA);
    this.view = Buffer.from(lib.koffi.view(this.memory, MSGHDR + IOVEC + CONTROL + DATA));
  }

  /** Connects to the socket at `path`; every later send or receive fails after `timeoutMs`. */
  static async connect(path: string, timeoutMs: number): Promise<BlockingUnixSocket> {
    const lib = await loadSocketCalls();
    const fd = lib.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw errnoError(lib.koffi, 'socket');
    const socket = new BlockingUnixSocket(lib, fd);
    try {
      const timeval = Buffer.alloc(16);
      timeval.writeBigInt64LE(BigInt(Math.floor(timeoutMs / 1000)), 0);
      timeval.writeBigInt64LE(BigInt((timeoutMs % 1000) * 1000), 8);
      for (const option of [SO_RCVTIMEO, SO_SNDTIMEO])
        if (lib.setsockopt(fd, SOL_SOCKET, option, timeval, 16) !== 0)
          throw errnoError(lib.koffi, 'setsockopt');
      // struct sockaddr_un: sa_family_t, then the path, NUL-terminated, in 108 bytes.
      const address = Buffer.alloc(110);
      address.writeUInt16LE(AF_UNIX, 0);
      if (Buffer.byteLength(path) > 107) throw new Error(`connect: socket path too long: ${path}`);
      address.write(path, 2);
      if (lib.connect(fd, address, address.length) !== 0)
        throw errnoError(lib.koffi, `dial unix ${path}: connect`);
    } catch (error) {
      socket.close();
      throw error;
    }
    return socket;
  }

  /** Sends all of `data`. */
  send(data: Buffer): void {
    for (let sent = 0; sent < data.length; ) {
      const rest = data.subarray(sent);
      const n = this.lib.send(this.fd, rest, rest.length, MSG_NOSIGNAL);
      if (n < 0 && this.lib.koffi.errno() === EINTR) continue;
      if (n < 0) throw errnoError(this.lib.koffi, 'send');
      sent += n;
    }
  }

  /** Reads what is there (blocking until something is), with any descriptors that came along. */
  receive(): Received {
    const { view, lib } = this;
    const base = lib.koffi.address(this.memory);
    view.fill(0, 0, MSGHDR + IOVEC + CONTROL);
    const iov = base + BigInt(MSGHDR);
    const control = base + BigInt(MSGHDR + IOVEC);
    const data = control + BigInt(CONTROL);
    // msghdr: name (NULL), namelen, iov, iovlen, control, controllen, flags.
    view.writeBigUInt64LE(iov, 16);
    view.writeBigUInt64LE(1n, 24);
    view.writeBigUInt64LE(control, 32);
    view.writeBigUInt64LE(BigInt(CONTROL), 40);
    view.writeBigUInt64LE(data, MSGHDR);
    view.writeBigUInt64LE(BigInt(DATA), MSGHDR + 8);
    let n = lib.recvmsg(this.fd, this.memory, MSG_CMSG_CLOEXEC);
    while (n < 0 && lib.koffi.errno() === EINTR) n = lib.recvmsg(this.fd, this.memory, MSG_CMSG_CLOEXEC);
    if (n < 0) throw errnoError(lib.koffi, 'recvmsg');
    const fds = this.descriptors(Number(view.readBigUInt64LE(40)));
    if (n === 0) {
      for (const fd of fds) lib.close(fd);
      throw new Error('recvmsg: connection closed by peer');
    }
    const start = MSGHDR + IOVEC + CONTROL;
    return { data: Buffer.from(view.subarray(start, start + n)), fds };
  }

  /** The SCM_RIGHTS descriptors in the control area recvmsg filled (`length` bytes of it). */
  private descriptors(length: number): number[] {
    const fds: number[] = [];
    for (let at = MSGHDR + IOVEC; at + 16 <= MSGHDR + IOVEC + length; ) {
      const cmsgLength = Number(this.view.readBigUInt64LE(at));
      if (cmsgLength < 16) break;
      if (this.view.readInt32LE(at + 8) === SOL_SOCKET && this.view.readInt32LE(at + 12) === SCM_RIGHTS)
        for (let i = at + 16; i + 4 <= at + cmsgLength; i += 4) fds.push(this.view.readInt32LE(i));
      at += (cmsgLength + 7) & ~7;
    }
    return fds;
  }

  /** Closes the socket and frees its buffers; safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    this.lib.close(this.fd);
    this.fd = -1;
    this.lib.koffi.free(this.memory);
  }
}
