// Sets V8 flags once the app's start-up is over; part of the kube-proxy executable's entry
// (build.mjs, targets.mjs `v8FlagsAfterStart`).
//
// Why: after start, each code path that runs for the first time (the first endpoint change's
// most of all) tiers up while it runs, and Turbofan's compiles run on V8's workers beside the
// change on a two-vCPU node: in issue #54's traces the workers ran 2.7-9.9 ms inside the first
// change's window (median 7.5 ms of 7 runs), and the main thread stood runnable behind them.
// With `--no-turbofan` from the started event (Maglev still tiers up) they ran 1.7-6.3 ms
// there (median 2.7 ms) and the first change took 4.1-5.9 ms against 4.6-8.2 ms
// (apps/kube-proxy/SCALE.md, session 49). Start-up keeps Turbofan: its lists and first full
// sync are where V8 compiles most. Code compiled by then keeps its Turbofan code.
//
// V8 reads this flag each time it decides a function's next tier, so setting it from a running
// process takes effect for every later decision.
'use strict';

const v8 = require('node:v8');
const { STARTED_EVENT } = require('./heap-trim.cjs');

/**
 * Sets each of `flags` (V8 command-line flags, e.g. `--no-turbofan`) when the app says its
 * start-up is over (STARTED_EVENT), once.
 * @param {readonly string[]} flags
 * @param {{ setFlags?: (flag: string) => void }} [options]
 */
function setV8FlagsAfterStart(flags, { setFlags = v8.setFlagsFromString } = {}) {
  process.once(STARTED_EVENT, () => {
    for (const flag of flags) setFlags(flag);
  });
}

module.exports = { setV8FlagsAfterStart };
