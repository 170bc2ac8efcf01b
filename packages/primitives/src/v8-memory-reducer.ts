import { Script } from 'node:vm';

// V8 keeps the pages a full collection frees in a pool, resident and charged to the process's
// cgroup, and hands them back only at a memory-reducing collection. Its memory reducer starts one
// once the program allocates little, judged on three rates: the young generation's, the old
// generation's and the embedder's (cppgc) heap's. Since V8 13.1 (Node 24) a rate tracker that has
// seen no allocation reads exactly 0, and the test takes a rate of 0 for the highest there is
// (`ComputeMutatorUtilizationImpl`). Node allocates on cppgc only for node:vm's scripts and
// contexts, so in an agent the embedder's rate is 0 about 110 s after start-up, and from then on
// the reducer waits for its watchdog, 100 s without a full collection, which a kubelet under pod
// churn never has (one every 13-17 s). The pool then holds the highest heap the process ever had
// for the rest of its life: 14-18 MiB from a kubelet's start with 110 pods.
//
// An empty vm.Script is a few bytes on cppgc. The rate they leave falls below the test's
// threshold within one of the reducer's 8 s ticks and reaches 0 only about 110 s later, so one a
// minute keeps the embedder's term low, and V8 decides from the other two, as it did before 13.1:
// a memory-reducing collection when the program is quiet after its heap grew, never while it
// allocates. Node 22's V8 needs none of this; there the script changes nothing.

/** Once a minute: within the ~110 s the embedder's rate stays above 0 after one script. */
export const MEMORY_REDUCER_PULSE_INTERVAL_MS = 60_000;

/**
 * Compiles an empty script now and then every `intervalMs`, on a timer that does not keep the
 * process alive, so V8's memory reducer can run again; returns its stop.
 */
export function keepV8MemoryReducerAlive(
  intervalMs = MEMORY_REDUCER_PULSE_INTERVAL_MS,
  allocateOnCppgc: () => unknown = () => new Script(''),
): () => void {
  allocateOnCppgc();
  const timer = setInterval(allocateOnCppgc, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
