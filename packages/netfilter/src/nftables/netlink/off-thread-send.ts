import type { RawNetlinkSocket } from 'netlink';
import { socketDescriptor } from './force-send-buffer';
import { type LibcFunction, loadLibc } from './libc-ffi';

// The kernel runs a whole nf_tables batch (every element inserted, the commit) inside the
// sendmsg that hands it over, in the sending thread: the `netlink` addon's send is that call on
// the main thread, which at 250k endpoints held the event loop for the ~0.4 s of a full sync's
// kernel work (apps/kube-proxy/bench/loop.bench.ts). A large datagram is sent with send(2) from a
// libuv worker thread instead, through koffi, on the addon's own descriptor: the same single
// datagram, so the batch stays one atomic transaction, and its replies still arrive through the
// addon's reader on the main thread.

type Send = LibcFunction<[fd: number, data: Buffer, length: number, flags: number], number>;

/** Datagrams from this size on go through a worker thread; smaller ones cost the kernel a few ms at most. */
export const OFF_THREAD_SEND_BYTES = 256 << 10;

let send: Promise<Send | null> | undefined;
const descriptors = new WeakMap<RawNetlinkSocket, number | null>();

function loadSend(): Promise<Send | null> {
  send ??= loadLibc().then((lib) =>
    lib ? (lib.func('long send(int, const void *, size_t, int)') as Send) : null,
  );
  return send;
}

/** Loads koffi's send now, so the first large batch does not. Resolves whether it is usable. */
export async function preloadOffThreadSend(): Promise<boolean> {
  return (await loadSend()) !== null;
}

/** The socket's descriptor (found once, through /proc), or null when it cannot be found. */
function descriptorOf(socket: RawNetlinkSocket): number | null {
  let fd = descriptors.get(socket);
  if (fd === undefined) {
    try {
      fd = socketDescriptor(socket.address().port) ?? null;
    } catch {
      fd = null;
    }
    descriptors.set(socket, fd);
  }
  return fd;
}

/**
 * Sends `datagram` on `socket` from a worker thread. Resolves true once the kernel took it whole
 * (and so ran the batch), false when it was not sent: no koffi, no descriptor, or send(2) refused
 * it (the caller sends it the usual way then, which reports the error). Only while nothing else
 * is queued on the socket: the addon's own queue would otherwise be overtaken.
 */
export async function sendOffThread(socket: RawNetlinkSocket, datagram: Buffer): Promise<boolean> {
  const call = await loadSend();
  const fd = call ? descriptorOf(socket) : null;
  if (!call || fd === null) return false;
  const sent = await new Promise<number>((resolve) =>
    call.async(fd, datagram, datagram.length, 0, (err, result) => resolve(err ? -1 : result)),
  );
  return sent === datagram.length;
}
