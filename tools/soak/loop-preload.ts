/**
 * The soak's window into an agent's main thread, loaded with NODE_OPTIONS=--require (the
 * executables carry nothing for it): event-loop delay from a 20 ms timer on the main thread, with
 * what the thread did in each gap between two ticks (/proc/thread-self/schedstat: the time it ran
 * and the time it waited in the run queue for a core), and GC pauses (the `gc` performance
 * entries), appended as one JSON line per period to NA_SOAK_LOOP_REPORT and reset, with V8's heap
 * at the period's end: each space's committed and used bytes (getHeapSpaceStatistics), and the
 * external and ArrayBuffer bytes, so that a rise of the anonymous memory can be told apart:
 * compiled code, old objects, pages kept for reuse. At each batch of GC entries it also reads what
 * V8 has committed in its regular 256 KiB pages (every space but code and large objects, which
 * have mappings of their own) and, after a full collection, the heap in use: the period's most of
 * the first is the high-water mark a page pool keeps, and its least of the second is the live
 * data, so a rise of the pages can be told from objects kept alive. The observer runs after the
 * collection, so the heap in use may hold a little allocated since.
 * Delays are what the timer fired late beyond its 20 ms, in ms; the timer samples the loop, so a
 * stall shows from about 20 ms on. The parts say what a long delay was: the main thread's own
 * work (a task that long), the wait for a core on a busy machine, and what is left of it, the
 * thread asleep in a blocking call (a page fault that reads the disk, a lock, a synchronous
 * syscall) or the whole machine paused (a VM stopped by its host).
 * Its own cost: 50 timer wake-ups a second, each reading the thread's schedstat once, and one
 * read of V8's space statistics per batch of GC entries.
 * With NA_SOAK_HEAP_DIR set, each SIGUSR2 writes a heap snapshot there (`<n>.heapsnapshot`, n
 * counting from 1, renamed into place once whole): the main thread stops while V8 writes it.
 * With NA_SOAK_CPU_PROFILE_DIR set, V8's sampling profiler runs through the period (a sample
 * each millisecond), and a period whose longest delay or task reached NA_SOAK_CPU_PROFILE_OVER_MS
 * (50) leaves its profile there (`<n>.cpuprofile`, its path in the line), with the two gaps on
 * CLOCK_MONOTONIC, the profile's clock, so a stall's functions can be named. The profiler costs
 * the agent CPU of its own, and stopping it each period holds the main thread (~90 ms in
 * kube-proxy, left out of the delays): a run with it names what was slow, not what the agent pays.
 */
export const LOOP_RESOLUTION_MS = 20;

export const LOOP_PRELOAD = `
const { constants, createHistogram, performance, PerformanceObserver } = require('node:perf_hooks');
const { appendFileSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');
const file = process.env.NA_SOAK_LOOP_REPORT;
const period = Number(process.env.NA_SOAK_LOOP_PERIOD_MS || 60000);
const profileDir = process.env.NA_SOAK_CPU_PROFILE_DIR;
const profileOverMs = Number(process.env.NA_SOAK_CPU_PROFILE_OVER_MS || 50);
// Stops the period's profile, keeps it as a file if asked, starts the next; calls back with the path kept.
let cpuProfile;
if (file && profileDir) {
  const session = new (require('node:inspector').Session)();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let kept = 0;
  cpuProfile = (keep, done) => session.post('Profiler.stop', (error, result) => {
    let path;
    if (!error && keep) {
      path = require('node:path').join(profileDir, String(++kept) + '.cpuprofile');
      writeFileSync(path + '.part', JSON.stringify(result.profile));
      renameSync(path + '.part', path);
    }
    session.post('Profiler.start');
    done(path);
  });
}
if (file) {
  // performance.now() plus this is CLOCK_MONOTONIC in ms (both are libuv's hrtime).
  const monotonicOffset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  // The thread's time on a core and in the run queue, ms.
  const schedstat = () => readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').slice(0, 2).map((ns) => Number(ns) / 1e6);
  // Lateness in ns; a histogram records only whole numbers of at least 1.
  const h = createHistogram();
  let lastAt = performance.now(), [lastCpu, lastWait] = schedstat();
  // The two gaps' bounds on performance.now(): numbers, so a tick allocates nothing in the agent.
  let maxMs = 0, maxAt = 0, maxOnCpuMs = 0, maxRunQueueMs = 0, taskMaxMs = 0, maxFrom = 0, taskFrom = 0, taskTo = 0;
  setInterval(() => {
    const at = performance.now(), [cpu, wait] = schedstat();
    const lateMs = Math.max(0, at - lastAt - ${LOOP_RESOLUTION_MS}), onCpuMs = cpu - lastCpu;
    h.record(Math.max(1, Math.round(lateMs * 1e6)));
    if (lateMs > maxMs) { maxMs = lateMs; maxAt = at; maxFrom = lastAt; maxOnCpuMs = onCpuMs; maxRunQueueMs = wait - lastWait; }
    if (onCpuMs > taskMaxMs) { taskMaxMs = onCpuMs; taskFrom = lastAt; taskTo = at; }
    lastAt = at; lastCpu = cpu; lastWait = wait;
  }, ${LOOP_RESOLUTION_MS}).unref();
  let gcMaxMs = 0, gcCount = 0, gcTotalMs = 0, regularCommittedPeak = 0, liveAfterFullGc = 0;
  // Bytes committed in V8's regular pages, and in use in the whole heap, from getHeapSpaceStatistics().
  const heapOf = (stats) => {
    let regular = 0, used = 0;
    for (const sp of stats) {
      if (!/code|large_object/.test(sp.space_name)) regular += sp.space_size;
      used += sp.space_used_size;
    }
    return [regular, used];
  };
  new PerformanceObserver((list) => {
    let full = false;
    for (const e of list.getEntries()) {
      gcCount++; gcTotalMs += e.duration; if (e.duration > gcMaxMs) gcMaxMs = e.duration;
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) full = true;
    }
    const [regular, used] = heapOf(getHeapSpaceStatistics());
    if (regular > regularCommittedPeak) regularCommittedPeak = regular;
    if (full && (!liveAfterFullGc || used < liveAfterFullGc)) liveAfterFullGc = used;
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const stats = getHeapSpaceStatistics(), spaces = {};
    for (const sp of stats) spaces[sp.space_name] = [sp.space_size, sp.space_used_size];
    regularCommittedPeak = Math.max(regularCommittedPeak, heapOf(stats)[0]);
    const { external, arrayBuffers } = process.memoryUsage();
    const ms = (ns) => (h.count ? ns / 1e6 : 0);
    const line = { at: Date.now(), p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)),
      maxMs, maxAt: maxAt && performance.timeOrigin + maxAt, maxOnCpuMs, maxRunQueueMs, taskMaxMs, gcMaxMs, gcCount, gcTotalMs, spaces, regularCommittedPeak,
      ...(liveAfterFullGc && { liveAfterFullGc }), external, arrayBuffers };
    const append = () => appendFileSync(file, JSON.stringify(line) + '\\n');
    const gaps = { maxGapMonotonicMs: [maxFrom + monotonicOffset, maxAt + monotonicOffset],
      taskGapMonotonicMs: [taskFrom + monotonicOffset, taskTo + monotonicOffset] };
    if (cpuProfile)
      cpuProfile(maxMs >= profileOverMs || taskMaxMs >= profileOverMs, (path) => {
        if (path) Object.assign(line, { profile: path }, gaps);
        append();
        // Stopping the profiler holds the main thread ~90 ms (kube-proxy's): the preload's own
        // stall, so the next tick's gap starts after it.
        lastAt = performance.now(); [lastCpu, lastWait] = schedstat();
      });
    else append();
    h.reset(); maxMs = 0; maxAt = 0; maxOnCpuMs = 0; maxRunQueueMs = 0; taskMaxMs = 0; gcMaxMs = 0; gcCount = 0; gcTotalMs = 0;
    regularCommittedPeak = 0; liveAfterFullGc = 0;
  }, period).unref();
}
const heapDir = process.env.NA_SOAK_HEAP_DIR;
if (heapDir) {
  let taken = 0;
  process.on('SIGUSR2', () => {
    const path = require('node:path').join(heapDir, String(++taken) + '.heapsnapshot');
    require('node:fs').renameSync(require('node:v8').writeHeapSnapshot(path + '.part'), path);
  });
}
`;

/** The line with the most of `by` (the first of equals); undefined for none. */
export function longestLine(lines: LoopReport[], by: (line: LoopReport) => number): LoopReport | undefined {
  return lines.reduce<LoopReport | undefined>((a, l) => (a && by(a) >= by(l) ? a : l), undefined);
}

/** One period's line of the preload's report. */
export interface LoopReport {
  at: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** When the longest delay's gap ended (epoch ms), to set it beside the machine's and the server's logs. */
  maxAt: number;
  /** The main thread's CPU in the gap that was the period's longest delay. */
  maxOnCpuMs: number;
  /** The main thread's wait in the run queue (for a core) in that same gap; the rest it slept, or the machine was paused. */
  maxRunQueueMs: number;
  /** The most CPU the main thread ran between two ticks in the period: its longest task. */
  taskMaxMs: number;
  gcMaxMs: number;
  /** With NA_SOAK_CPU_PROFILE_DIR, in a period whose longest delay or task reached the threshold: the period's CPU profile. */
  profile?: string;
  /** The longest delay's gap, [start, end] on CLOCK_MONOTONIC in ms (the profile's clock), where there is a profile. */
  maxGapMonotonicMs?: [number, number];
  /** The longest task's gap, the same way. */
  taskGapMonotonicMs?: [number, number];
  gcCount: number;
  gcTotalMs: number;
  /** V8's heap spaces by name (code_space, old_space, new_space, large_object_space, …): [committed, used] bytes. */
  spaces: Record<string, [number, number]>;
  /** The most V8 committed in its regular 256 KiB pages at any collection of the period and at its end, bytes. */
  regularCommittedPeak: number;
  /** The least of the heap in use after a full collection in the period, bytes; absent without one. */
  liveAfterFullGc?: number;
  /** process.memoryUsage(): memory of C++ objects bound to JavaScript ones, and of ArrayBuffers, bytes. */
  external: number;
  arrayBuffers: number;
}
