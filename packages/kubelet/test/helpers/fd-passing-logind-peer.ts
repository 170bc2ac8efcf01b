// A test peer standing in for logind (and systemd's KillUnit), run in its own process (the client
// under test blocks its event loop while it waits for Inhibit's reply):
//   node --import tsx fd-passing-logind-peer.ts serve <socket> lock|denied
//     listens on <socket> as if it were the bus itself (SASL with AGREE_UNIX_FD, Hello);
//   node --import tsx fd-passing-logind-peer.ts bus <bus socket> <InhibitDelayMaxUSec>
//     connects to a real dbus-daemon and owns org.freedesktop.login1 and org.freedesktop.systemd1.
// Inhibit is answered with the write end of a pipe sent by SCM_RIGHTS (koffi's sendmsg on the
// socket's own descriptor, as logind sends its FIFO), or with a D-Bus error (`denied`). Lines on
// stdout: `ready`, `get`, `killunit <args>`, `inhibit <args>`, and `released` once every copy of
// the sent descriptor is closed (the read end sees end of file), as logind notices a lock go.
// Lines on stdin (bus mode): `shutdown` / `cancel` send PrepareForShutdown(true / false).
import { createReadStream } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import koffi from 'koffi';
import {
  type DbusMessage,
  decodeMessage,
  encodeMessage,
  MessageType,
  messageLength,
} from '../../src/cgroups/dbus-message';

const [mode, socketPath, option] = process.argv.slice(2) as [string, string, string];
const libc = koffi.load('libc.so.6');
const pipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
const sendmsg = libc.func('intptr_t sendmsg(int, void *, int)');
const close = libc.func('int close(int)');
let serial = 100;

/** sendmsg(fd, data, SCM_RIGHTS [descriptor]) on the socket's own descriptor. */
function sendWithDescriptor(socket: Socket, data: Buffer, descriptor: number): void {
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
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

function send(socket: Socket, message: Omit<DbusMessage, 'serial'>): void {
  socket.write(encodeMessage({ serial: serial++, ...message }));
}

function reply(call: DbusMessage, signature: string, body: DbusMessage['body']): Omit<DbusMessage, 'serial'> {
  return {
    type: MessageType.methodReturn,
    replySerial: call.serial,
    destination: call.sender ?? ':1.7',
    signature,
    body,
  };
}

function inhibit(socket: Socket, call: DbusMessage): void {
  console.log(`inhibit ${JSON.stringify(call.body)}`);
  if (option === 'denied') {
    send(socket, {
      type: MessageType.error,
      replySerial: call.serial,
      destination: call.sender,
      errorName: 'org.freedesktop.DBus.Error.AccessDenied',
      signature: 's',
      body: ['Permission denied'],
    });
    return;
  }
  const fds = new Int32Array(2);
  if (pipe2(fds, 0) !== 0) throw new Error('pipe2 failed');
  const [readEnd, writeEnd] = [fds[0]!, fds[1]!];
  sendWithDescriptor(
    socket,
    encodeMessage({ serial: serial++, ...reply(call, 'h', [0]), unixFds: 1 }),
    writeEnd,
  );
  close(writeEnd);
  const watch = createReadStream('', { fd: readEnd });
  watch.on('data', () => {});
  watch.on('end', () => console.log('released'));
}

function answer(socket: Socket, call: DbusMessage): void {
  if (call.type !== MessageType.methodCall) return;
  if (call.member === 'Hello') send(socket, reply(call, 's', [':1.7']));
  else if (call.member === 'Get') {
    console.log('get');
    send(socket, reply(call, 'v', [{ signature: 't', value: BigInt(option) }]));
  } else if (call.member === 'KillUnit') {
    console.log(`killunit ${JSON.stringify(call.body)}`);
    send(socket, reply(call, 'o', ['/org/freedesktop/systemd1/job/1']));
  } else if (call.member === 'Inhibit') inhibit(socket, call);
}

/** Feeds `socket`'s SASL lines to `onLine` until BEGIN, then its messages to `onMessage`. */
function readSocket(
  socket: Socket,
  onLine: (line: string) => boolean,
  onMessage: (m: DbusMessage) => void,
): void {
  let buffer = Buffer.alloc(0);
  let authenticating = true;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (authenticating) {
      const end = buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = buffer.toString('ascii', 0, end).replace(/^\0/, '');
      buffer = buffer.subarray(end + 2);
      authenticating = onLine(line);
    }
    for (;;) {
      const length = messageLength(buffer);
      if (length === undefined || buffer.length < length) return;
      const message = decodeMessage(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
      onMessage(message);
    }
  });
  socket.on('error', () => {});
}

function serve(): void {
  const server = createServer((socket) =>
    readSocket(
      socket,
      (line) => {
        if (line.startsWith('AUTH EXTERNAL ')) socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
        else if (line === 'NEGOTIATE_UNIX_FD') socket.write('AGREE_UNIX_FD\r\n');
        return line !== 'BEGIN';
      },
      (message) => answer(socket, message),
    ),
  );
  server.listen(socketPath, () => console.log('ready'));
}

function onBus(): void {
  const socket = connect(socketPath);
  const names = ['org.freedesktop.login1', 'org.freedesktop.systemd1'];
  let lastRequest = -1;
  readSocket(
    socket,
    (line) => {
      if (line.startsWith('OK ')) socket.write('NEGOTIATE_UNIX_FD\r\n');
      if (line !== 'AGREE_UNIX_FD') return true;
      socket.write('BEGIN\r\n');
      const bus = {
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
      };
      send(socket, { type: MessageType.methodCall, ...bus, member: 'Hello' });
      for (const name of names)
        send(socket, {
          type: MessageType.methodCall,
          ...bus,
          member: 'RequestName',
          signature: 'su',
          body: [name, 0],
        });
      lastRequest = serial - 1;
      return false;
    },
    (message) => {
      // The replies to Hello and the two RequestName calls: ready once both names are owned.
      if (message.type === MessageType.methodReturn && message.replySerial === lastRequest)
        console.log('ready');
      answer(socket, message);
    },
  );
  socket.write(
    Buffer.concat([
      Buffer.from([0]),
      Buffer.from(`AUTH EXTERNAL ${Buffer.from(String(process.getuid?.() ?? 0)).toString('hex')}\r\n`),
    ]),
  );
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line !== 'shutdown' && line !== 'cancel') return;
    send(socket, {
      type: MessageType.signal,
      path: '/org/freedesktop/login1',
      interface: 'org.freedesktop.login1.Manager',
      member: 'PrepareForShutdown',
      signature: 'b',
      body: [line === 'shutdown'],
    });
  });
}

if (mode === 'bus') onBus();
else serve();
process.on('SIGTERM', () => process.exit(0));
