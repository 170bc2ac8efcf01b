import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidFieldError } from '../../errors';
import { ACK_BUFFER_COST, DEFAULT_SOCKET_BUFFER, type NfnetlinkChannel } from './channel';
import { NftNetlinkTransportError } from './errors';

/** The binaries a NetnsChannel runs its relay with inside the other namespace. */
export interface NetnsChannelOptions {
  /** The node binary that runs the relay (default: this process's). */
  nodePath?: string;
  nsenterPath?: string;
  /** relay/nfnetlink-relay.mjs of this package; found from this module when not given. */
  relayPath?: string;
  bufferBytes?: number;
}

const RELAY = join('relay', 'nfnetlink-relay.mjs');

/**
 * The relay script sits at the package root; this module is one (dist/) or three
 * (src/nftables/netlink/) levels below it, so look upwards from here.
 */
export function resolveNfnetlinkRelay(explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new InvalidFieldError('relayPath', explicit, 'no such file');
    return explicit;
  }
  const url: unknown = (import.meta as { url?: unknown }).url;
  let dir =
    typeof url === 'string' && url.startsWith('file:')
      ? dirname(fileURLToPath(url))
      : typeof __dirname === 'string'
        ? __dirname
        : undefined;
  const tried: string[] = [];
  for (let up = 0; dir !== undefined && up < 5; up++) {
    const candidate = join(dir, RELAY);
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new InvalidFieldError(
    'relayPath',
    tried.join(', '),
    'has no relay/nfnetlink-relay.mjs: pass relayPath, pointing at a copy beside an installed `netlink` package',
  );
}

/**
 * A NETLINK_NETFILTER socket in another network namespace, owned by a relay process started
 * there with nsenter (Node cannot setns(2)). Datagrams cross stdin/stdout unchanged, so every
 * batch and dump works as with an in-process socket.
 */
export class NetnsChannel implements NfnetlinkChannel {
  private readonly child: ChildProcessWithoutNullStreams;
  private datagramListener: ((datagram: Buffer) => void) | undefined;
  private failureListener: ((error: NftNetlinkTransportError) => void) | undefined;
  private closed = false;
  private exitReason: string | undefined;
  private stderr = '';
  ackCapacity = 16;
  maxDatagram = 0;
  /** The relay raises its send buffer for an oversized datagram (it has koffi). */
  private forcesBuffer = false;

  /** Starts the relay in the namespace at `netnsPath` (e.g. /run/netns/<name>) and waits until it is ready. */
  static async open(netnsPath: string, options: NetnsChannelOptions = {}): Promise<NetnsChannel> {
    const channel = new NetnsChannel(netnsPath, options);
    await channel.ready;
    return channel;
  }

  private readonly ready: Promise<void>;

  private constructor(
    readonly netnsPath: string,
    options: NetnsChannelOptions,
  ) {
    if (!existsSync(netnsPath))
      throw new InvalidFieldError('netnsPath', netnsPath, 'no such network namespace file');
    const relay = resolveNfnetlinkRelay(options.relayPath);
    this.child = spawn(
      options.nsenterPath ?? 'nsenter',
      [
        `--net=${netnsPath}`,
        '--',
        options.nodePath ?? process.execPath,
        relay,
        String(options.bufferBytes ?? DEFAULT_SOCKET_BUFFER),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-2000);
    });
    let markReady: () => void = () => {};
    let failReady: (err: Error) => void = () => {};
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    let pending: Buffer = Buffer.alloc(0);
    this.child.stdout.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const kind = pending.readUInt8(0);
        const length = pending.readUInt32LE(1);
        if (pending.length < 5 + length) break;
        const payload = Buffer.from(pending.subarray(5, 5 + length));
        pending = pending.subarray(5 + length);
        if (kind === 1) this.datagramListener?.(payload);
        else if (kind === 2) {
          const { message, errno } = JSON.parse(payload.toString()) as { message: string; errno: number };
          this.failureListener?.(new NftNetlinkTransportError(message, errno || undefined));
        } else if (kind === 3) {
          this.ackCapacity = Math.max(16, Math.floor(payload.readUInt32LE(0) / ACK_BUFFER_COST));
          this.maxDatagram = payload.length >= 8 ? payload.readUInt32LE(4) - 32 : 0;
          this.forcesBuffer = payload.length >= 12 && payload.readUInt32LE(8) === 1;
          this.setActive(false);
          markReady();
        }
      }
    });
    const fail = (reason: string) => {
      this.exitReason ??= reason;
      const error = new NftNetlinkTransportError(`relay in ${netnsPath}: ${reason}`);
      failReady(error);
      if (!this.closed) this.failureListener?.(error);
    };
    this.child.on('error', (err) => fail(`cannot start: ${err.message}`));
    this.child.on('exit', (code, signal) => fail(`exited (${signal ?? code}): ${this.stderr.trim()}`));
  }

  async fitDatagram(bytes: number): Promise<boolean> {
    if (!this.forcesBuffer) return this.maxDatagram <= 0 || bytes <= this.maxDatagram;
    // The relay forces its buffer before sending; a refusal comes back as a send failure.
    this.maxDatagram = Math.max(this.maxDatagram, bytes);
    return true;
  }

  send(datagram: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new NftNetlinkTransportError('the socket is closed'));
    if (this.exitReason) return Promise.reject(new NftNetlinkTransportError(`relay: ${this.exitReason}`));
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32LE(datagram.length, 0);
    this.child.stdin.write(Buffer.concat([head, datagram]));
    return Promise.resolve();
  }

  onDatagram(listener: (datagram: Buffer) => void): void {
    this.datagramListener = listener;
  }

  onFailure(listener: (error: NftNetlinkTransportError) => void): void {
    this.failureListener = listener;
  }

  setActive(active: boolean): void {
    const stdout = this.child.stdout as unknown as { ref?: () => void; unref?: () => void };
    if (active) {
      this.child.ref();
      stdout.ref?.();
    } else {
      this.child.unref();
      stdout.unref?.();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }
}
