import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The scale bench's own process holds the in-process API server's whole cluster (250k
// endpoints: its objects, encoded copies and watch history). Its collections landed inside the
// bench's endpoint writes, before the watch event even left (issue #54: 1.35 ms p50 of the
// write, and every change p99 over 80 ms of a run was one of them, up to 160 ms): the stand-in
// API server's pauses, which a real cluster's apiserver, on other machines, does not add to the
// node's kube-proxy. The bench collects its garbage in the idle time before each change instead.
//
// `gc()` returns when the main thread's part is done, but V8 goes on sweeping on its four
// helper threads: 100-135 ms of both vCPUs at 250k endpoints, longer right after the bench
// parsed the kernel's 510k-element listing. A change written then measured the bench, not the
// daemon (the first change took 23-25 ms where the rest took 2-6), so the collection returns
// only once the process is quiet.

let collect: (() => void) | undefined;

/** A window in which this process running less than QUIET_MS counts as quiet. */
const QUIET_WINDOW_MS = 50;
const QUIET_MS = 2;
/** The longest the bench waits for its helpers (a machine too busy to let them finish). */
const SETTLE_LIMIT_MS = 5000;

/** CPU time every thread of this process has run so far, in ms (getrusage, threads included). */
function processRunMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * A full collection of this process's heap, now (V8's `gc`, exposed on first use), finished:
 * resolves once the process ran under QUIET_MS in a QUIET_WINDOW_MS window, with the ms it
 * waited for that.
 */
export async function collectBenchGarbage(): Promise<number> {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  const start = performance.now();
  let ran = processRunMs();
  while (performance.now() - start < SETTLE_LIMIT_MS) {
    await sleep(QUIET_WINDOW_MS);
    const now = processRunMs();
    if (now - ran < QUIET_MS) break;
    ran = now;
  }
  return performance.now() - start;
}
