/**
 * The tracer behind the soak's --trace-malloc-trim, started by malloc-trim-trace.ts as
 * `unshare --mount --propagation private tsx malloc-trim-tracer.ts <libc> <file offset, hex>`:
 * tracefs is mounted in that mount namespace only, so the host's mounts are untouched.
 *
 * It places a uprobe on libc's malloc_trim and a return probe on it (the kernel's
 * uprobe_events, group na_trim_<its pid>), and records them in a tracefs instance of its own (its own
 * buffer, clock and triggers; the host's tracing is left as it was). A call enables the
 * scheduler's sched_switch event in that instance and its return disables it, so the buffer also
 * holds each time the calling thread left the CPU and came back during the call, and little else.
 * Its first line on stdout is `clock <ms>`, epoch ms less CLOCK_MONOTONIC ms (the instance's
 * trace clock); then, every second, the trace text read from the instance's trace_pipe without
 * blocking, so no reader is woken while a call runs.
 *
 * Probes and instance are removed at SIGTERM, SIGINT or when stdin closes (the soak gone), and
 * a later run removes those of a tracer that was killed.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';

const TRACEFS = '/sys/kernel/tracing';
const DRAIN_MS = 1000;
/** The uprobe groups of these tracers: the prefix and the pid of the tracer that made it. */
const GROUP_PREFIX = 'na_trim_';

const [libc, fileOffset] = process.argv.slice(2);
if (!libc || !/^[0-9a-f]+$/.test(fileOffset ?? '')) {
  process.stderr.write('usage: malloc-trim-tracer.ts <libc path> <file offset, hex>\n');
  process.exit(2);
}
const group = `${GROUP_PREFIX}${process.pid}`;

execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
removeStaleGroups();
const instance = `${TRACEFS}/instances/${group}`;
try {
  place();
} catch (error) {
  // Nothing half made stays behind: what was placed goes, and the error is the caller's.
  removeGroup(group, { quiet: true });
  throw error;
}
const pipe = openSync(`${instance}/trace_pipe`, constants.O_RDONLY | constants.O_NONBLOCK);
process.stdout.write(`clock ${Date.now() - Number(process.hrtime.bigint()) / 1e6}\n`);
const timer = setInterval(drain, DRAIN_MS);

let stopped = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, stop);
process.stdin.on('close', stop).resume();

/** The probes, the instance recording them, and the triggers that add the scheduler's events. */
function place(): void {
  const events = `${instance}/events/${group}`;
  appendFileSync(`${TRACEFS}/uprobe_events`, `p:${group}/entry ${libc}:0x${fileOffset}\n`);
  appendFileSync(`${TRACEFS}/uprobe_events`, `r:${group}/exit ${libc}:0x${fileOffset}\n`);
  mkdirSync(instance);
  writeFileSync(`${instance}/trace_clock`, 'mono');
  writeFileSync(`${instance}/buffer_size_kb`, '4096');
  writeFileSync(`${events}/entry/trigger`, 'enable_event:sched:sched_switch');
  writeFileSync(`${events}/exit/trigger`, 'disable_event:sched:sched_switch');
  writeFileSync(`${events}/enable`, '1');
}

const chunk = Buffer.alloc(1 << 16);

/** Copies what the instance holds to stdout; returns at once when it holds nothing. */
function drain(): void {
  for (;;) {
    let n: number;
    try {
      n = readSync(pipe, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return;
      throw error;
    }
    if (n === 0) return;
    process.stdout.write(Buffer.from(chunk.subarray(0, n)));
  }
}

function stop(): void {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  drain();
  closeSync(pipe);
  removeGroup(group);
  process.stdout.end(() => process.exit(0));
}

/** The instance first (it holds the events enabled), then each probe; `quiet` for what may not exist. */
function removeGroup(name: string, { quiet = false } = {}): void {
  const dir = `${TRACEFS}/instances/${name}`;
  if (existsSync(dir)) rmdirSync(dir);
  for (const event of ['entry', 'exit'])
    try {
      appendFileSync(`${TRACEFS}/uprobe_events`, `-:${name}/${event}\n`);
    } catch (error) {
      if (!quiet) throw error;
    }
}

/** Groups of tracers no longer running (killed before their cleanup). */
function removeStaleGroups(): void {
  const defined = readFileSync(`${TRACEFS}/uprobe_events`, 'utf8');
  const stale = new Set<string>();
  for (const m of defined.matchAll(new RegExp(`^[pr]:(${GROUP_PREFIX}(\\d+))/`, 'gm')))
    if (!existsSync(`/proc/${m[2]}`)) stale.add(m[1] as string);
  for (const name of stale) removeGroup(name, { quiet: true });
}
