// Lowers the scheduling priority (nice) of V8's platform worker threads once the app's start-up
// is over; part of the kube-proxy executable's entry (build.mjs, targets.mjs `workerNice`).
//
// Why: the workers compile (V8 optimises a function on one of them once it is hot) and mark for
// the collector. On a two-vCPU node, the kernel places a worker the main thread wakes on the
// main thread's own vCPU and lets it run first there, often while the other vCPU is idle: in a
// trace of kube-proxy at 5,000 Services × 50 endpoints (issue #54, apps/kube-proxy/SCALE.md),
// one endpoint change's main thread stood runnable behind its own workers for up to 3.7 ms, the
// first change after start the most, as its path tiers up change by change. At nice 19 a woken
// worker no longer preempts the main thread; it runs on an idle vCPU or after the change.
// Start-up keeps them at the process's priority: its lists and first full sync are where the
// concurrent marking and compiling are worth a core of their own.
//
// A thread's nice is its own on Linux: setpriority(PRIO_PROCESS, tid) changes that thread only
// (os.setPriority passes the id through), and lowering a priority needs no privilege.
'use strict';

const { readdirSync, readFileSync } = require('node:fs');
const os = require('node:os');
const { STARTED_EVENT } = require('./heap-trim.cjs');

/** The name Node gives each of V8's platform worker threads (node_platform.cc). */
const WORKER_NAME = 'V8Worker';
/** Where the process's threads are listed, one directory per thread id. */
const TASK_DIR = '/proc/self/task';

/**
 * The ids of the process's V8 platform workers, read from `taskDir` (a thread that exits while
 * it is read is left out).
 * @returns {number[]}
 */
function workerThreadIds(taskDir = TASK_DIR) {
  const ids = [];
  for (const id of readdirSync(taskDir)) {
    let name;
    try {
      name = readFileSync(`${taskDir}/${id}/comm`, 'utf8').trimEnd();
    } catch {
      continue;
    }
    if (name === WORKER_NAME) ids.push(Number(id));
  }
  return ids;
}

/**
 * Sets each V8 platform worker's nice to `nice`; returns how many it set. A thread gone in
 * between (ESRCH) is skipped; any other failure is a warning (code NODEAGENT_WORKER_PRIORITY)
 * naming the value, and the workers keep the process's priority.
 */
function lowerWorkerPriority(nice, { taskDir = TASK_DIR, setPriority = os.setPriority } = {}) {
  let set = 0;
  try {
    for (const id of workerThreadIds(taskDir)) {
      try {
        setPriority(id, nice);
        set += 1;
      } catch (err) {
        if (err.code !== 'ESRCH') throw err;
      }
    }
  } catch (err) {
    process.emitWarning(`V8 worker threads keep the process's priority, not nice ${nice}: ${err.message}`, {
      code: 'NODEAGENT_WORKER_PRIORITY',
    });
  }
  return set;
}

/** Lowers the workers' priority to `nice` when the app says its start-up is over (STARTED_EVENT). */
function lowerWorkerPriorityAfterStart(nice, options = {}) {
  process.once(STARTED_EVENT, () => lowerWorkerPriority(nice, options));
}

module.exports = { lowerWorkerPriority, lowerWorkerPriorityAfterStart, workerThreadIds, WORKER_NAME };
