import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { errnoName } from '@nodeagent/primitives/netlink';
import { InvalidFieldError, IpvsClosedError, IpvsError } from './errors';
import { type GenlTransport, NetlinkErrnoError } from './transport';

/** The relay process could not be started or died. */
export class NetnsRelayError extends IpvsError {
  constructor(
    readonly netnsPath: string,
    reason: string,
  ) {
    super('IPVS_NETNS_RELAY', `network namespace ${netnsPath}: ${reason}`);
  }
}

/** The binaries and relay script a NetnsTransport runs inside the other namespace. */
export interface NetnsTransportOptions {
  /** The node binary that runs the relay. Default: this process's (not usable in a single executable). */
  nodePath?: string;
  nsenterPath?: string;
  /** The relay script; default: the package's relay/netns-relay.mjs, found from this module. */
  relayPath?: string;
}

interface Pending {
  resolve: (replies: Buffer[]) => void;
  reject: (err: Error) => void;
}

/**
 * The relay script cannot be found: this code was bundled away from the package (a single
 * executable, an esbuild bundle) and no `relayPath` was given. Checked before anything starts.
 */
export class NetnsRelayMissingError extends IpvsError {
  constructor(readonly tried: readonly string[]) {
    super(
      'IPVS_NETNS_RELAY_MISSING',
      `the network-namespace relay script (relay/netns-relay.mjs of @nodeagent/ipvs) was not found${
        tried.length > 0 ? ` at ${tried.join(', ')}` : ' (no module location to look from)'
      }: pass relayPath, pointing at a copy of it beside an installed \`netlink\` package`,
    );
  }
}

const RELAY_FROM_MODULE = join('..', 'relay', 'netns-relay.mjs');

/**
 * Where the relay script is: next to src/ and dist/ in the package, found from this module's
 * location. ESM has import.meta.url; the CJS build gets it from tsup's shim; an esbuild CommonJS
 * bundle (tools/sea) has an empty import.meta but a __dirname, where the relay is normally
 * absent — hence the existence check and the typed error instead of a relay dying on start.
 */
export function resolveRelayPath(explicit?: string): string {
  if (explicit !== undefined) {
    if (typeof explicit !== 'string' || !existsSync(explicit))
      throw new InvalidFieldError('relayPath', explicit, 'no such file');
    return explicit;
  }
  const tried: string[] = [];
  const url: unknown = (import.meta as { url?: unknown }).url;
  if (typeof url === 'string' && url.startsWith('file:'))
    tried.push(join(dirname(fileURLToPath(url)), RELAY_FROM_MODULE));
  else if (typeof __dirname === 'string') tried.push(join(__dirname, RELAY_FROM_MODULE));
  const found = tried.find((p) => existsSync(p));
  if (!found) throw new NetnsRelayMissingError(tried);
  return found;
}

/**
 * A generic netlink transport in another network namespace. Node cannot setns(2), so a small
 * relay process is started inside the namespace (`nsenter --net=<path> node relay`) and owns the
 * socket; requests travel to it as JSON lines. Slower than NetlinkTransport (no batching), fine
 * for control-plane use. The relay is ref'd only while requests are pending.
 */
export class NetnsTransport implements GenlTransport {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private exitReason: string | undefined;
  readonly ready: Promise<void>;

  constructor(
    readonly netnsPath: string,
    options: NetnsTransportOptions = {},
  ) {
    if (typeof netnsPath !== 'string' || !existsSync(netnsPath)) {
      throw new InvalidFieldError('netnsPath', netnsPath, 'no such network namespace file');
    }
    const relay = resolveRelayPath(options.relayPath);
    this.child = spawn(
      options.nsenterPath ?? 'nsenter',
      [`--net=${netnsPath}`, '--', options.nodePath ?? process.execPath, relay],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    this.child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-2000);
    });
    let markReady: () => void = () => {};
    let failReady: (e: Error) => void = () => {};
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    this.ready.catch(() => {});
    const lines = createInterface({ input: this.child.stdout });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as {
        id?: number;
        ready?: boolean;
        replies?: string[];
        errno?: number;
        failure?: string;
      };
      if (msg.ready) {
        markReady();
        this.updateRef();
        return;
      }
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (!p || msg.id === undefined) return;
      this.pending.delete(msg.id);
      this.updateRef();
      if (msg.errno !== undefined) {
        p.reject(new NetlinkErrnoError(msg.errno, errnoName(msg.errno)));
      } else if (msg.failure !== undefined) p.reject(new NetnsRelayError(netnsPath, msg.failure));
      else p.resolve((msg.replies ?? []).map((r) => Buffer.from(r, 'base64')));
    });
    this.child.on('error', (err) => this.fail(`cannot start the relay: ${err.message}`, failReady));
    this.child.on('exit', (code, signal) =>
      this.fail(`relay exited (${signal ?? code}): ${stderr.trim()}`, failReady),
    );
  }

  private fail(reason: string, failReady: (e: Error) => void): void {
    this.exitReason ??= reason;
    const err = this.closed ? new IpvsClosedError() : new NetnsRelayError(this.netnsPath, reason);
    failReady(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Keep the event loop alive only while an answer is awaited. */
  private updateRef(): void {
    const stdout = this.child.stdout as unknown as { ref?: () => void; unref?: () => void };
    if (this.pending.size > 0) {
      this.child.ref();
      stdout.ref?.();
    } else {
      this.child.unref();
      stdout.unref?.();
    }
  }

  async request(type: number, flags: number, payload: Buffer): Promise<Buffer[]> {
    if (this.closed) throw new IpvsClosedError();
    if (this.exitReason) throw new NetnsRelayError(this.netnsPath, this.exitReason);
    const id = this.nextId++;
    const result = new Promise<Buffer[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.updateRef();
    this.child.stdin.write(`${JSON.stringify({ id, type, flags, payload: payload.toString('base64') })}\n`);
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.child.stdin.end();
    this.child.kill('SIGTERM');
  }
}
