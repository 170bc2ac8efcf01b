// Started by NetnsChannel inside another network namespace (`nsenter --net=<path>`): Node cannot
// setns(2) and a netlink socket belongs to the namespace it was opened in, so this process owns
// a NETLINK_NETFILTER socket and relays datagrams, untouched, both ways. Binary frames:
//   stdin:  [u32le length][datagram]                  → sent to the kernel, in order
//   stdout: [u8 kind][u32le length][payload]          kind 1: a datagram from the kernel
//                                                      kind 2: a socket failure (JSON {message, errno})
//                                                      kind 3: ready (payload: u32le receive and send buffer bytes)
import netlink from 'netlink';

const NETLINK_NETFILTER = 12;
const bufferBytes = Number(process.argv[2]) || 8 << 20;
const socket = new netlink.RawNetlinkSocket(NETLINK_NETFILTER, {
  recvBufferSize: bufferBytes,
  sendBufferSize: bufferBytes,
});

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
    socket.send(datagram, {}, (err) => {
      if (err) failure(`send failed: ${err.message}`, Math.abs(err.errno ?? 0));
    });
  }
});
process.stdin.on('end', () => {
  socket.close();
  process.exit(0);
});

const ready = Buffer.allocUnsafe(8);
ready.writeUInt32LE(socket.getRecvBufferSize(), 0);
ready.writeUInt32LE(socket.getSendBufferSize(), 4);
frame(3, ready);
