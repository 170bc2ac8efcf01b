// A test peer standing in for the system bus and logind, run in its own process (the client
// under test blocks its event loop): `node --import tsx fd-passing-logind-peer.ts <socket> <mode>`.
// It answers SASL (with AGREE_UNIX_FD), Hello, and Inhibit: mode `lock` with the write end of a
// pipe sent by SCM_RIGHTS (through koffi's sendmsg, as logind sends its FIFO), mode `denied` with
// a D-Bus error. Lines on stdout: `ready`, `inhibit <args>`, and `released` once every copy of
// the sent descriptor is closed (the read end sees end of file), as logind notices a lock go.
import { createReadStream } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import koffi from 'koffi';
import { decodeMessage, encodeMessage, MessageType, messageLength } from '../../src/cgroups/dbus-message';

const [socketPath, mode] = process.argv.slice(2) as [string, string];
const libc = koffi.load('libc.so.6');
const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
const sendmsg = libc.func('intptr_t sendmsg(int, void *, int)');
const close = libc.func('int close(int)');

/** sendmsg(fd, data, SCM_RIGHTS [descriptor]) on the accepted socket's own descriptor. */
function sendWithDescriptor(fd: number, data: Buffer, descriptor: number): void {
  const size = 56 + 16 + 24 + data.length;
  const memory = koffi.alloc('uint8_t', size);
  const view = Buffer.from(koffi.view(memory, size));
  const base = koffi.address(memory);
  view.writeBigUInt64LE(base + 56n, 16); // msg_iov
  view.writeBigUInt64LE(1n, 24); // msg_iovlen
  view.writeBigUInt64LE(base + 72n, 32); // msg_control
  view.writeBigUInt64LE(24n, 40); // msg_controllen: CMSG_SPACE(4)
  view.writeBigUInt64LE(base + 96n, 56); // iov_base
  view.writeBigUInt64LE(BigInt(data.length), 64); // iov_len
  view.writeBigUInt64LE(20n, 72); // cmsg_len: CMSG_LEN(4)
  view.writeInt32LE(1, 80); // SOL_SOCKET
  view.writeInt32LE(1, 84); // SCM_RIGHTS
  view.writeInt32LE(descriptor, 88);
  data.copy(view, 96);
  const sent = sendmsg(fd, memory, 0);
  koffi.free(memory);
  if (sent !== data.length) throw new Error(`sendmsg sent ${sent} of ${data.length}`);
}

function reply(serial: number, replySerial: number, signature: string, body: (string | number)[]) {
  return encodeMessage({
    type: MessageType.methodReturn,
    serial,
    replySerial,
    signature,
    body,
    destination: ':1.7',
  });
}

function answer(socket: Socket, message: ReturnType<typeof decodeMessage>): void {
  if (message.member === 'Hello') {
    socket.write(reply(100, message.serial, 's', [':1.7']));
    return;
  }
  if (message.member !== 'Inhibit') return;
  console.log(`inhibit ${JSON.stringify(message.body)}`);
  if (mode === 'denied') {
    socket.write(
      encodeMessage({
        type: MessageType.error,
        serial: 101,
        replySerial: message.serial,
        errorName: 'org.freedesktop.DBus.Error.AccessDenied',
        signature: 's',
        body: ['Permission denied'],
      }),
    );
    return;
  }
  const fds = new Int32Array(2);
  if (pipe2(fds, 0) !== 0) throw new Error('pipe2 failed');
  const [readEnd, writeEnd] = [fds[0]!, fds[1]!];
  const handle = (socket as unknown as { _handle: { fd: number } })._handle;
  // The client's encoder writes no 'h'; an index is a 'u' on the wire, so write that and name it 'h'.
  const bytes = reply(101, message.serial, 'u', [0]);
  const signature = bytes.indexOf(Buffer.from([8, 1, 0x67, 0, 1, 0x75, 0]));
  bytes[signature + 5] = 0x68;
  sendWithDescriptor(handle.fd, bytes, writeEnd);
  close(writeEnd);
  const watch = createReadStream('', { fd: readEnd });
  watch.on('data', () => {});
  watch.on('end', () => console.log('released'));
}

const server = createServer((socket) => {
  let buffer = Buffer.alloc(0);
  let authenticated = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (!authenticated) {
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.toString('ascii', 0, end).replace(/^\0/, '');
      buffer = buffer.subarray(end + 2);
      if (line.startsWith('AUTH EXTERNAL ')) socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
      else if (line === 'NEGOTIATE_UNIX_FD') socket.write('AGREE_UNIX_FD\r\n');
      else if (line === 'BEGIN') authenticated = true;
    }
    for (;;) {
      const length = messageLength(buffer);
      if (length === undefined || buffer.length < length) return;
      const message = decodeMessage(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
      answer(socket, message);
    }
  });
  socket.on('error', () => {});
});
server.listen(socketPath, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
