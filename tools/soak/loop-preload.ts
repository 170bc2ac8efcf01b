/**
 * The soak's window into an agent's main thread, loaded with NODE_OPTIONS=--require (the
 * executables carry nothing for it): event-loop delay (perf_hooks monitorEventLoopDelay, a 20 ms
 * timer) and GC pauses (the `gc` performance entries), appended as one JSON line per period to
 * NA_SOAK_LOOP_REPORT and reset, with V8's heap at the period's end: each space's committed and
 * used bytes (getHeapSpaceStatistics), and the external and ArrayBuffer bytes, so that a rise of
 * the anonymous memory can be told apart: compiled code, old objects, pages kept for reuse.
 * Delays are what the timer fired late beyond its 20 ms, in ms; the timer samples the loop, so a
 * stall shows from about 20 ms on. Its own cost: 50 timer wake-ups a second.
 * With NA_SOAK_HEAP_DIR set, each SIGUSR2 writes a heap snapshot there (`<n>.heapsnapshot`, n
 * counting from 1, renamed into place once whole): the main thread stops while V8 writes it.
 */
export const LOOP_RESOLUTION_MS = 20;

export const LOOP_PRELOAD = `
const { monitorEventLoopDelay, PerformanceObserver } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const { getHeapSpaceStatistics } = require('node:v8');
const file = process.env.NA_SOAK_LOOP_REPORT;
const period = Number(process.env.NA_SOAK_LOOP_PERIOD_MS || 60000);
if (file) {
  const h = monitorEventLoopDelay({ resolution: ${LOOP_RESOLUTION_MS} });
  h.enable();
  let gcMaxMs = 0, gcCount = 0, gcTotalMs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { gcCount++; gcTotalMs += e.duration; if (e.duration > gcMaxMs) gcMaxMs = e.duration; }
  }).observe({ entryTypes: ['gc'] });
  const late = (ns) => Math.max(0, ns / 1e6 - ${LOOP_RESOLUTION_MS});
  setInterval(() => {
    const spaces = {};
    for (const sp of getHeapSpaceStatistics()) spaces[sp.space_name] = [sp.space_size, sp.space_used_size];
    const { external, arrayBuffers } = process.memoryUsage();
    appendFileSync(file, JSON.stringify({ at: Date.now(), p50Ms: late(h.percentile(50)), p99Ms: late(h.percentile(99)),
      maxMs: late(h.max), gcMaxMs, gcCount, gcTotalMs, spaces, external, arrayBuffers }) + '\\n');
    h.reset(); gcMaxMs = 0; gcCount = 0; gcTotalMs = 0;
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

/** One period's line of the preload's report. */
export interface LoopReport {
  at: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  gcMaxMs: number;
  gcCount: number;
  gcTotalMs: number;
  /** V8's heap spaces by name (code_space, old_space, new_space, large_object_space, …): [committed, used] bytes. */
  spaces: Record<string, [number, number]>;
  /** process.memoryUsage(): memory of C++ objects bound to JavaScript ones, and of ArrayBuffers, bytes. */
  external: number;
  arrayBuffers: number;
}
