import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Clock } from '@nodeagent/primitives';
import { KubeProxyError } from '../errors';

/** The long-lived `nft -i` failed, exited, or did not answer in time; the transaction's fate is unknown or failed. */
export class NftSessionError extends KubeProxyError {
  constructor(
    readonly reason: 'rejected' | 'exited' | 'timeout',
    readonly stderr: string,
  ) {
    super(`NFT_SESSION_${reason.toUpperCase()}`, `nft -i: ${reason}: ${stderr.trim().slice(0, 2000)}`);
  }
}

/** Limits of the long-lived `nft -i` process that applies small diffs (NftSession, execNftables). */
export interface NftSessionOptions {
  /** How long one transaction may take before the session is killed (ms). */
  timeoutMs?: number;
  /**
   * nft -i keeps every line in its in-memory history: restart the process after this many
   * bytes of input so that history stays small.
   */
  restartAfterBytes?: number;
  /** Timers for the per-transaction limit (tests inject a FakeClock). Default: real timers. */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/** Real timers that keep the process alive while a transaction is outstanding. */
const realTimers: Pick<Clock, 'setTimeout' | 'clearTimeout'> = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RESTART_AFTER_BYTES = 4 << 20;

/**
 * Whether a script can travel as one `nft -i` line: every command on its own line, no
 * backslashes (nft -i joins a line ending in one with the next), no quoted text spanning lines.
 */
export function fitsOneLine(script: string): boolean {
  if (script.includes('\\') || script.includes('\r')) return false;
  for (const line of script.split('\n')) {
    let quotes = 0;
    for (let i = line.indexOf('"'); i >= 0; i = line.indexOf('"', i + 1)) quotes++;
    if (quotes % 2 !== 0) return false;
  }
  return true;
}

/**
 * A long-lived `nft -i` process fed one transaction per line. nft runs each line as one
 * netlink batch, which the kernel commits atomically, exactly as `nft -f` does with a file.
 * What it saves is per-sync work outside the transaction: a process start (dynamic loading
 * of libnftables) and, on closing the netlink socket, the kernel waiting for the previous
 * transaction's deferred clean-up (an RCU grace period, ~10 ms) — together 15–20 ms of a
 * one-endpoint change at any table size.
 *
 * nft -i prints nothing on success and reports failures on stderr, so after each transaction
 * the session sends a marker line that nft rejects with a syntax error echoing the marker:
 * when that echo arrives every earlier line has been committed or rejected, and anything on
 * stderr before it is the transaction's error.
 */
export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private stderr = '';
  private fed = 0;
  private seq = 0;
  private readonly id = randomBytes(4).toString('hex');
  private waiting: { marker: string; resolve: (err: string) => void; reject: (e: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  private readonly restartAfterBytes: number;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;

  constructor(
    /** e.g. `['ip', 'netns', 'exec', ns]`; empty to run nft directly. */
    private readonly commandPrefix: readonly string[] = [],
    options: NftSessionOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.restartAfterBytes = options.restartAfterBytes ?? DEFAULT_RESTART_AFTER_BYTES;
    this.clock = options.clock ?? realTimers;
  }

  /** The nft process id while one runs (tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Applies `script` (one command per line) as one atomic transaction. */
  apply(script: string): Promise<void> {
    const run = this.queue.then(() => this.applyNow(script));
    this.queue = run.catch(() => {});
    return run;
  }

  /** Ends the nft process (it exits on end of input). */
  async close(): Promise<void> {
    await this.queue;
    this.stop();
  }

  private async applyNow(script: string): Promise<void> {
    const line = script
      .split('\n')
      .filter((l) => l.trim() !== '')
      .join(' ; ');
    if (line === '') return;
    if (this.child && this.fed > this.restartAfterBytes) this.stop();
    const child = this.child ?? this.start();
    const marker = `na-sync-${this.id}-${++this.seq}`;
    this.stderr = '';
    const answer = new Promise<string>((resolve, reject) => {
      this.waiting = { marker, resolve, reject };
    });
    const timer = this.clock.setTimeout(() => {
      const err = new NftSessionError('timeout', this.stderr);
      this.stop();
      this.waiting?.reject(err);
    }, this.timeoutMs);
    try {
      child.stdin.write(`${line}\n${marker}\n`);
      this.fed += line.length;
      const before = await answer;
      if (before.includes('Error')) throw new NftSessionError('rejected', before);
    } finally {
      this.clock.clearTimeout(timer);
      this.waiting = undefined;
    }
  }

  private start(): ChildProcessWithoutNullStreams {
    const argv = [...this.commandPrefix, 'nft', '-i'];
    // HOME unset: nft -i would otherwise write its line history to ~/.nft.history on exit.
    const { HOME: _home, ...env } = process.env;
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child = child;
    this.fed = 0;
    child.stdout.resume(); // nothing expected; never let it fill up
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
      const w = this.waiting;
      if (!w) return;
      const at = this.stderr.indexOf(`\n${w.marker}\n`);
      if (at < 0) return;
      // Drop nft's own "Error: syntax error ..." line about the marker.
      const before = this.stderr.slice(0, at);
      w.resolve(before.slice(0, Math.max(0, before.lastIndexOf('\n'))));
    });
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.waiting?.reject(new NftSessionError('exited', `${why} ${this.stderr}`));
    };
    child.on('error', (e) => gone(e.message));
    child.on('exit', (code, signal) => gone(`exit ${code ?? signal}`));
    child.stdin.on('error', () => {}); // reported through 'exit'
    // A daemon that ends without close() must not wait for nft: nft exits on end of input.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr])
      (s as unknown as { unref?: () => void }).unref?.();
    return child;
  }

  private stop(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.stdin.end();
    // Backstop if nft does not exit on end of input within the timeout.
    const t = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }
}
