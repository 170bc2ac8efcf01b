// Started by NetnsChannel inside another network namespace (`nsenter --net=<path>`): Node cannot
// setns(2) and a netlink socket belongs to the namespace it was opened in, so this process owns
// a NETLINK_NETFILTER socket and relays datagrams, untouched, both ways. Binary frames:
//   stdin:  [u32le length][datagram]                  → sent to the kernel, in order
//   stdout: [u8 kind][u32le length][payload]          kind 1: a datagram from the kernel
//                                                      kind 2: a socket failure (JSON {message, errno})
//                                                      kind 3: ready (payload: u32le receive and send buffer bytes,
//                                                              u32le 1 when oversized datagrams get a forced buffer)
// A datagram longer than the send buffer allows gets a bigger buffer first (SO_SNDBUFFORCE through
// the optional koffi package, as force-send-buffer.ts does in-process): a batch stays one sendmsg.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import netlink from 'netlink';

const NETLINK_NETFILTER = 12;
const bufferBytes = Number(process.argv[2]) || 8 << 20;
const socket = new netlink.RawNetlinkSocket(NETLINK_NETFILTER, {
  recvBufferSize: bufferBytes,
  sendBufferSize: bufferBytes,
});

let setsockopt = null;
try {
  const koffi = createRequire(import.meta.url)('koffi');
  setsockopt = koffi.load('libc.so.6').func('int setsockopt(int, int, int, const void *, uint32_t)');
} catch {
  // Without koffi the send buffer keeps net.core.wmem_max's cap.
}

function socketDescriptor(port) {
  const row = readFileSync('/proc/self/net/netlink', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => Number(fields[1]) === NETLINK_NETFILTER && Number(fields[2]) === port >>> 0);
  if (!row) return undefined;
  const target = `socket:[${row.at(-1)}]`;
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) return Number(entry);
    } catch {}
  }
  return undefined;
}

function fit(bytes) {
  if (bytes <= socket.getSendBufferSize() - 32 || !setsockopt) return;
  const fd = socketDescriptor(socket.address().port);
  if (fd === undefined) return;
  const value = Buffer.alloc(4);
  value.writeInt32LE(Math.min(Math.ceil((bytes + 65536) / (1 << 20)) * (1 << 20), 0x3fffffff));
  setsockopt(fd, 1, 32, value, 4); // SOL_SOCKET, SO_SNDBUFFORCE; a refusal shows as EMSGSIZE on send
}

function frame(kind, payload) {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32LE(payload.length, 1);
  process.stdout.write(Buffer.concat([head, payload]));
}

function failure(message, errno) {
  frame(2, Buffer.from(JSON.stringify({ message, errno })));
}

socket.on('message', (msg) => frame(1, msg));
socket.on('truncatedMessage', () => failure('a reply was truncated', 0));
socket.on('error', (err) => failure(err.message, Math.abs(err.errno ?? 0)));

let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const length = pending.readUInt32LE(0);
    if (pending.length < 4 + length) break;
    const datagram = pending.subarray(4, 4 + length);
    pending = pending.subarray(4 + length);
    fit(datagram.length);
    socket.send(datagram, {}, (err) => {
      if (err) failure(`send failed: ${err.message}`, Math.abs(err.errno ?? 0));
    });
  }
});
process.stdin.on('end', () => {
  socket.close();
  process.exit(0);
});

const ready = Buffer.allocUnsafe(12);
ready.writeUInt32LE(socket.getRecvBufferSize(), 0);
ready.writeUInt32LE(socket.getSendBufferSize(), 4);
ready.writeUInt32LE(setsockopt ? 1 : 0, 8);
frame(3, ready);
