import { createServer, type Server, type Socket } from 'node:net';
import type { DbusValue } from '../../src/cgroups/dbus-marshal';
import {
  type DbusMessage,
  decodeMessage,
  encodeMessage,
  MessageType,
  messageLength,
} from '../../src/cgroups/dbus-message';

/** What a handler answers a method call with: a reply body, a D-Bus error, and signals sent after it (same write). */
export interface FakeAnswer {
  signature?: string;
  body?: DbusValue[];
  error?: { name: string; message: string };
  signals?: Omit<DbusMessage, 'type' | 'serial'>[];
  /** Signals sent in a later write (a later event-loop turn). */
  laterSignals?: Omit<DbusMessage, 'type' | 'serial'>[];
}

/**
 * A D-Bus peer on a unix socket for tests: SASL EXTERNAL (records the uid it was given), then
 * every method call is recorded and answered by `handler`.
 */
export class FakeDbusServer {
  readonly calls: DbusMessage[] = [];
  readonly authLines: string[] = [];
  /** The raw bytes of every message received, in order. */
  readonly rawMessages: Buffer[] = [];
  private serial = 1000;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly path: string,
    private readonly handler: (call: DbusMessage) => FakeAnswer,
    private readonly authReply = 'OK 1234deadbeef1234deadbeef1234dead',
  ) {
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.path, resolve));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    let authenticated = false;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (!authenticated) {
        if (buffered[0] === 0) buffered = buffered.subarray(1);
        const end = buffered.indexOf('\r\n');
        if (end < 0) return;
        const line = buffered.toString('ascii', 0, end);
        buffered = buffered.subarray(end + 2);
        this.authLines.push(line);
        if (line.startsWith('AUTH ')) socket.write(`${this.authReply}\r\n`);
        if (line === 'BEGIN') authenticated = true;
      }
      for (;;) {
        const length = messageLength(buffered);
        if (length === undefined || buffered.length < length) return;
        const raw = buffered.subarray(0, length);
        buffered = buffered.subarray(length);
        this.rawMessages.push(Buffer.from(raw));
        this.answer(socket, decodeMessage(raw));
      }
    });
  }

  private answer(socket: Socket, call: DbusMessage): void {
    this.calls.push(call);
    const answer = this.handler(call);
    const out: Buffer[] = [];
    if (answer.error)
      out.push(
        encodeMessage({
          type: MessageType.error,
          serial: this.serial++,
          replySerial: call.serial,
          errorName: answer.error.name,
          signature: 's',
          body: [answer.error.message],
        }),
      );
    else
      out.push(
        encodeMessage({
          type: MessageType.methodReturn,
          serial: this.serial++,
          replySerial: call.serial,
          signature: answer.signature ?? '',
          body: answer.body ?? [],
        }),
      );
    for (const signal of answer.signals ?? [])
      out.push(encodeMessage({ type: MessageType.signal, serial: this.serial++, ...signal }));
    socket.write(Buffer.concat(out));
    const later = answer.laterSignals ?? [];
    if (later.length > 0)
      setImmediate(() =>
        socket.write(
          Buffer.concat(
            later.map((signal) =>
              encodeMessage({ type: MessageType.signal, serial: this.serial++, ...signal }),
            ),
          ),
        ),
      );
  }

  /** Drops every client connection (the client sees its socket close). */
  disconnectAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  close(): Promise<void> {
    this.disconnectAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** systemd's JobRemoved(id, job, unit, result) signal. */
export function jobRemoved(id: number, unit: string, result: string): Omit<DbusMessage, 'type' | 'serial'> {
  return {
    path: '/org/freedesktop/systemd1',
    interface: 'org.freedesktop.systemd1.Manager',
    member: 'JobRemoved',
    signature: 'uoss',
    body: [id, `/org/freedesktop/systemd1/job/${id}`, unit, result],
  };
}
