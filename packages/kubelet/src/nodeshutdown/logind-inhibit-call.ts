import { closeSync } from 'node:fs';
import { DbusCallError } from '../cgroups/dbus-connection';
import type { DbusValue } from '../cgroups/dbus-marshal';
import {
  type DbusMessage,
  decodeMessage,
  encodeMessage,
  MessageType,
  messageLength,
} from '../cgroups/dbus-message';
import { BlockingUnixSocket, type Received } from './blocking-unix-socket';

/** Upstream InhibitShutdown's arguments to logind's Inhibit (what, who, why, mode). */
export const inhibitArguments = [
  'shutdown',
  'kubelet',
  'Kubelet needs time to handle node shutdown',
  'delay',
] as const;

// How long one blocking send or receive of the exchange may take.
const exchangeTimeoutMs = 5000;

/** Reads from `socket` until `buffer` holds a line ending in CRLF; returns the line and the rest. */
function readLine(socket: BlockingUnixSocket, buffered: Buffer): { line: string; rest: Buffer } {
  let buffer = buffered;
  for (;;) {
    const end = buffer.indexOf('\r\n');
    if (end >= 0) return { line: buffer.toString('ascii', 0, end), rest: buffer.subarray(end + 2) };
    const received = socket.receive();
    for (const fd of received.fds) closeSync(fd);
    buffer = Buffer.concat([buffer, received.data]);
  }
}

/** SASL EXTERNAL with fd passing negotiated (the reply to Inhibit carries one). */
function authenticate(socket: BlockingUnixSocket, path: string, uid: number): Buffer {
  const hexUid = Buffer.from(String(uid), 'ascii').toString('hex');
  socket.send(Buffer.concat([Buffer.from([0]), Buffer.from(`AUTH EXTERNAL ${hexUid}\r\n`, 'ascii')]));
  const ok = readLine(socket, Buffer.alloc(0));
  if (!ok.line.startsWith('OK '))
    throw new Error(`D-Bus ${path}: authentication refused: ${JSON.stringify(ok.line)}`);
  socket.send(Buffer.from('NEGOTIATE_UNIX_FD\r\n', 'ascii'));
  const agree = readLine(socket, ok.rest);
  if (agree.line !== 'AGREE_UNIX_FD')
    throw new Error(`D-Bus ${path}: no file descriptor passing: ${JSON.stringify(agree.line)}`);
  return agree.rest;
}

function call(
  serial: number,
  destination: string,
  path: string,
  iface: string,
  member: string,
  signature = '',
  body: DbusValue[] = [],
): Buffer {
  return encodeMessage({
    type: MessageType.methodCall,
    serial,
    destination,
    path,
    interface: iface,
    member,
    signature,
    body,
  });
}

/**
 * Reads messages until the reply to `serial`; returns it with its own descriptors. A message's
 * descriptors arrive with its bytes and are counted by its UNIX_FDS field, so those of messages
 * before it (none are expected) are told apart and closed.
 */
function awaitReply(
  socket: BlockingUnixSocket,
  buffered: Buffer,
  serial: number,
): { reply: DbusMessage; fds: number[] } {
  let buffer = buffered;
  const pending: number[] = [];
  for (;;) {
    const length = messageLength(buffer);
    if (length !== undefined && buffer.length >= length) {
      const message = decodeMessage(buffer.subarray(0, length));
      buffer = buffer.subarray(length);
      const own = pending.splice(0, message.unixFds ?? 0);
      const isReply = message.type === MessageType.methodReturn || message.type === MessageType.error;
      if (isReply && message.replySerial === serial) {
        for (const fd of pending) closeSync(fd);
        return { reply: message, fds: own };
      }
      for (const fd of own) closeSync(fd);
      continue;
    }
    const received: Received = socket.receive();
    pending.push(...received.fds);
    buffer = Buffer.concat([buffer, received.data]);
  }
}

/**
 * logind's Inhibit("shutdown", "kubelet", ..., "delay") over its own short connection to the
 * system bus at `busPath` (authenticated as `uid`), returning the lock's file descriptor: the
 * lock lasts while that descriptor is open. The reply's descriptor arrives with SCM_RIGHTS, which
 * Node's sockets cannot receive, hence a blocking libc socket (BlockingUnixSocket) for this one
 * exchange: Hello, then Inhibit, then close. Descriptors received besides the lock are closed.
 */
export async function logindInhibit(busPath: string, uid: number): Promise<number> {
  const socket = await BlockingUnixSocket.connect(busPath, exchangeTimeoutMs);
  let fds: number[] = [];
  try {
    const rest = authenticate(socket, busPath, uid);
    socket.send(
      Buffer.concat([
        Buffer.from('BEGIN\r\n', 'ascii'),
        call(1, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello'),
        call(
          2,
          'org.freedesktop.login1',
          '/org/freedesktop/login1',
          'org.freedesktop.login1.Manager',
          'Inhibit',
          'ssss',
          [...inhibitArguments],
        ),
      ]),
    );
    const answer = awaitReply(socket, rest, 2);
    fds = answer.fds;
    if (answer.reply.type === MessageType.error) {
      const detail = typeof answer.reply.body?.[0] === 'string' ? answer.reply.body[0] : '';
      throw new DbusCallError(
        answer.reply.errorName ?? 'unknown',
        detail,
        'org.freedesktop.login1.Manager.Inhibit',
      );
    }
    const index = answer.reply.body?.[0];
    const lock = typeof index === 'number' ? fds[index] : undefined;
    if (lock === undefined) throw new Error('Inhibit reply carried no file descriptor');
    fds = fds.filter((fd) => fd !== lock);
    return lock;
  } finally {
    for (const fd of fds) closeSync(fd);
    socket.close();
  }
}
