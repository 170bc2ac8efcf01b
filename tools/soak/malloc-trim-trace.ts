/**
 * `--trace-malloc-trim`: every call of glibc's malloc_trim in the machine, timed from outside the
 * caller by a uprobe (malloc-trim-tracer.ts), with the time its thread spent off the CPU during
 * the call. Both executables hand their free heap back with it once a minute, on the main
 * thread (@nodeagent/primitives/free-heap-release); the soak reports each agent's calls per
 * minute, and whether one fell in the minute's longest event-loop delay. Nothing in the agents
 * changes, unlike V8's profiler, whose buffers go through malloc and leave more to hand back.
 *
 * A call's off-CPU time comes from the scheduler's events, which the tracer records only while a
 * call runs; two calls overlapping in different processes share one switch, so the first to
 * return ends the other's view: its off-CPU time then reads short.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { elfSymbolFileOffset } from './elf-symbol';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** One malloc_trim call: its thread, its bounds (epoch ms) and its time off the CPU by cause (ms). */
export interface TrimCall {
  tid: number;
  startMs: number;
  endMs: number;
  /** Preempted, waiting in the run queue for a core. */
  runQueueMs: number;
  /** Asleep in the kernel (a lock, a page): every other state a thread leaves the CPU in. */
  blockedMs: number;
}

/** The tracer could not start: what it needs, or what it said. */
export class MallocTrimTraceError extends Error {
  override readonly name = 'MallocTrimTraceError';
}

/**
 * Pairs the tracer's entry and return events per thread into calls, adding the time each
 * calling thread spent switched out between them. Times are the trace clock's (CLOCK_MONOTONIC
 * seconds); `epochOffsetMs` turns them into epoch ms.
 */
export class TrimCalls {
  private readonly open = new Map<number, Omit<TrimCall, 'endMs'> & { outAt?: number; outState?: string }>();

  constructor(private readonly epochOffsetMs: number) {}

  /** The call this trace line completes, if it is a return whose entry was seen. */
  line(line: string): TrimCall | undefined {
    const m = /-(\d+)\s+\[\d+\]\s+\S+\s+(\d+\.\d+): (entry|exit|sched_switch): (.*)$/.exec(line);
    if (!m) return undefined;
    const at = Number(m[2]) * 1000 + this.epochOffsetMs;
    const tid = Number(m[1]);
    if (m[3] === 'entry') this.open.set(tid, { tid, startMs: at, runQueueMs: 0, blockedMs: 0 });
    else if (m[3] === 'sched_switch') this.switched(m[4] as string, at);
    else {
      const call = this.open.get(tid);
      if (!call) return undefined;
      this.open.delete(tid);
      return {
        tid,
        startMs: call.startMs,
        endMs: at,
        runQueueMs: call.runQueueMs,
        blockedMs: call.blockedMs,
      };
    }
    return undefined;
  }

  private switched(fields: string, at: number): void {
    const s = /prev_pid=(\d+) .*prev_state=(\S+) ==> .*next_pid=(\d+)/.exec(fields);
    if (!s) return;
    const out = this.open.get(Number(s[1]));
    if (out) {
      out.outAt = at;
      out.outState = s[2];
    }
    const back = this.open.get(Number(s[3]));
    if (back?.outAt === undefined) return;
    const ms = at - back.outAt;
    if (back.outState?.startsWith('R')) back.runQueueMs += ms;
    else back.blockedMs += ms;
    back.outAt = undefined;
  }
}

/** The path of the C library this process runs on, as /proc/self/maps names it. */
export function runningLibc(maps = readFileSync('/proc/self/maps', 'utf8')): string {
  const path = /\s(\/\S*\/libc(?:\.so\.6|-[\d.]+\.so))$/m.exec(maps)?.[1];
  if (!path)
    throw new MallocTrimTraceError(
      'no libc.so.6 is mapped into this process: --trace-malloc-trim needs glibc',
    );
  return path;
}

/** The running tracer: its calls by thread, taken by the soak each minute. */
export class MallocTrimTrace {
  private readonly calls: TrimCall[] = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => {
      this.stderr += d;
    });
  }

  /** Starts the tracer and resolves once its probes are in place. */
  static start(libc = runningLibc()): Promise<MallocTrimTrace> {
    const offset = elfSymbolFileOffset(libc, 'malloc_trim').toString(16);
    const child = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        join(repoRoot, 'node_modules/.bin/tsx'),
        join(repoRoot, 'tools/soak/malloc-trim-tracer.ts'),
        libc,
        offset,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const trace = new MallocTrimTrace(child);
    return new Promise((resolve, reject) => {
      child.once('error', (e) =>
        reject(new MallocTrimTraceError(`unshare: ${e.message} (apt-get install util-linux)`)),
      );
      child.once('exit', () => reject(trace.exitError()));
      let calls: TrimCalls | undefined;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!calls) {
          calls = new TrimCalls(Number(line.replace(/^clock /, '')));
          resolve(trace);
          return;
        }
        const call = calls.line(line);
        if (call) trace.calls.push(call);
      });
    });
  }

  /**
   * The calls made on thread `tid` (an agent's pid: its main thread) since the last take; the
   * tracer hands them over each second. Throws when the tracer has gone.
   */
  take(tid: number): TrimCall[] {
    if (this.exited()) throw this.exitError();
    const taken = this.calls.filter((c) => c.tid === tid);
    this.calls.splice(0, this.calls.length, ...this.calls.filter((c) => c.tid !== tid));
    return taken;
  }

  /** Removes the probes and waits for the tracer to exit. */
  stop(): Promise<void> {
    if (this.exited()) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.end();
    });
  }

  private exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private exitError(): MallocTrimTraceError {
    const how = this.child.signalCode ?? this.child.exitCode;
    return new MallocTrimTraceError(
      `the malloc_trim tracer exited (${how}): ${this.stderr.trim().slice(-2000)}`,
    );
  }
}

/** A minute's calls of one agent, and whether one of them fell in its longest event-loop delay's gap. */
export function trimMinute(
  calls: TrimCall[],
  longestDelay?: { fromMs: number; toMs: number },
): Record<string, number | boolean> | undefined {
  if (calls.length === 0) return undefined;
  const longest = calls.reduce((a, c) => (c.endMs - c.startMs > a.endMs - a.startMs ? c : a));
  const round = (v: number) => Number(v.toFixed(1));
  return {
    count: calls.length,
    maxMs: round(longest.endMs - longest.startMs),
    maxInRunQueueMs: round(longest.runQueueMs),
    maxBlockedMs: round(longest.blockedMs),
    totalMs: round(calls.reduce((a, c) => a + c.endMs - c.startMs, 0)),
    inLongestDelay:
      longestDelay !== undefined &&
      calls.some((c) => c.startMs < longestDelay.toMs && c.endMs > longestDelay.fromMs),
  };
}
