import { connect, type Socket } from 'node:net';
import type { DbusValue } from './dbus-marshal';
import { type DbusMessage, decodeMessage, encodeMessage, MessageType, messageLength } from './dbus-message';

/** A method call's address and arguments. */
export interface DbusCall {
  destination?: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: DbusValue[];
}

/** The peer answered a call with a D-Bus error (org.freedesktop.systemd1.NoSuchUnit...). */
export class DbusCallError extends Error {
  constructor(
    readonly errorName: string,
    readonly detail: string,
    readonly call: string,
  ) {
    super(`${call}: ${errorName}: ${detail}`);
    this.name = 'DbusCallError';
  }
}

/** The connection could not be made, was refused at authentication, or closed under a call. */
export class DbusConnectionError extends Error {
  constructor(
    readonly socketPath: string,
    reason: string,
  ) {
    super(`D-Bus connection to ${socketPath}: ${reason}`);
    this.name = 'DbusConnectionError';
  }
}

/** How DbusConnection.open talks to the socket. */
export interface DbusConnectionOptions {
  /** A message bus (dbus-daemon): say Hello first. systemd's private socket is peer-to-peer and takes none. */
  bus: boolean;
  /** The uid to authenticate as (SASL EXTERNAL); default this process's. */
  uid?: number;
}

/** SASL EXTERNAL: a NUL byte, then the uid as hex-encoded decimal text, then BEGIN once the server says OK. */
function authenticate(socket: Socket, socketPath: string, uid: number): Promise<Buffer> {
  const hexUid = Buffer.from(String(uid), 'ascii').toString('hex');
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (error: Error | undefined, rest?: Buffer) => {
      socket.off('data', onData);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(rest ?? Buffer.alloc(0));
    };
    const onClose = () => done(new DbusConnectionError(socketPath, 'closed during authentication'));
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n');
      if (end < 0) return;
      const line = received.toString('ascii', 0, end);
      if (!line.startsWith('OK '))
        return done(new DbusConnectionError(socketPath, `authentication refused: ${JSON.stringify(line)}`));
      socket.write('BEGIN\r\n');
      done(undefined, received.subarray(end + 2));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(Buffer.concat([Buffer.from([0]), Buffer.from(`AUTH EXTERNAL ${hexUid}\r\n`, 'ascii')]));
  });
}

/**
 * One D-Bus connection over a unix socket: method calls matched to their replies by serial, and
 * signals handed to listeners. While no call is outstanding and nothing holds it, the socket does
 * not keep the process alive.
 */
export class DbusConnection {
  private serial = 0;
  private readonly pending = new Map<
    number,
    { resolve: (body: DbusValue[]) => void; reject: (error: Error) => void; call: string }
  >();
  private readonly signalListeners = new Set<(message: DbusMessage) => void>();
  private readonly closeListeners = new Set<(error: Error) => void>();
  private buffered: Buffer = Buffer.alloc(0);
  private holds = 0;
  private closedError: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {}

  /** Connects, authenticates and (on a bus) says Hello. */
  static async open(socketPath: string, options: DbusConnectionOptions): Promise<DbusConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', (error) => reject(new DbusConnectionError(socketPath, error.message)));
    });
    let rest: Buffer;
    try {
      rest = await authenticate(socket, socketPath, options.uid ?? process.getuid?.() ?? 0);
    } catch (error) {
      socket.destroy();
      throw error;
    }
    const connection = new DbusConnection(socket, socketPath);
    connection.attach(rest);
    if (options.bus)
      await connection.call({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'Hello',
      });
    return connection;
  }

  private attach(rest: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.receive(chunk));
    this.socket.on('error', (error) => this.fail(new DbusConnectionError(this.socketPath, error.message)));
    this.socket.on('close', () => this.fail(new DbusConnectionError(this.socketPath, 'connection closed')));
    this.updateRef();
    if (rest.length > 0) this.receive(rest);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      const length = messageLength(this.buffered);
      if (length === undefined || this.buffered.length < length) return;
      const message = decodeMessage(this.buffered.subarray(0, length));
      this.buffered = this.buffered.subarray(length);
      this.dispatch(message);
    }
  }

  private dispatch(message: DbusMessage): void {
    if (message.type === MessageType.signal) {
      for (const listener of this.signalListeners) listener(message);
      return;
    }
    if (message.type !== MessageType.methodReturn && message.type !== MessageType.error) return;
    const waiter = this.pending.get(message.replySerial ?? -1);
    if (!waiter) return;
    this.pending.delete(message.replySerial ?? -1);
    this.updateRef();
    if (message.type === MessageType.methodReturn) waiter.resolve(message.body ?? []);
    else {
      const detail = typeof message.body?.[0] === 'string' ? message.body[0] : '';
      waiter.reject(new DbusCallError(message.errorName ?? 'unknown', detail, waiter.call));
    }
  }

  private fail(error: Error): void {
    const first = this.closedError === undefined;
    this.closedError ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    if (first) for (const listener of this.closeListeners) listener(error);
  }

  private updateRef(): void {
    if (this.pending.size > 0 || this.holds > 0) this.socket.ref();
    else this.socket.unref();
  }

  /** Keeps the process alive while something waits for a signal; the returned function lets go. */
  hold(): () => void {
    this.holds++;
    this.updateRef();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.updateRef();
    };
  }

  /** Calls a method and resolves with the reply's body; a D-Bus error rejects with DbusCallError. */
  call(call: DbusCall): Promise<DbusValue[]> {
    if (this.closedError) return Promise.reject(this.closedError);
    this.serial = (this.serial % 0xffffffff) + 1;
    const serial = this.serial;
    const name = `${call.interface}.${call.member}`;
    return new Promise((resolve, reject) => {
      this.pending.set(serial, { resolve, reject, call: name });
      this.updateRef();
      this.socket.write(encodeMessage({ type: MessageType.methodCall, serial, ...call }));
    });
  }

  /** Every signal that arrives is passed to `listener` until the returned function is called. */
  onSignal(listener: (message: DbusMessage) => void): () => void {
    this.signalListeners.add(listener);
    return () => this.signalListeners.delete(listener);
  }

  /** `listener` is called once when the connection fails or closes (a signal watch ends with it). */
  onClose(listener: (error: Error) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Whether the socket has closed (a new connection is needed). */
  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Closes the socket; calls still waiting fail with DbusConnectionError. */
  close(): void {
    this.socket.destroy();
  }
}
