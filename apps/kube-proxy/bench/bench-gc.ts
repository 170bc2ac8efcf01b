import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// The scale bench's own process holds the in-process API server's whole cluster (250k
// endpoints: its objects, encoded copies and watch history). Its collections landed inside the
// bench's endpoint writes, before the watch event even left (issue #54: 1.35 ms p50 of the
// write, and every change p99 over 80 ms of a run was one of them, up to 160 ms): the stand-in
// API server's pauses, which a real cluster's apiserver, on other machines, does not add to the
// node's kube-proxy. The bench collects its garbage in the idle time before each change instead.

let collect: (() => void) | undefined;

/** A full collection of this process's heap, now (V8's `gc`, exposed on first use). */
export function collectBenchGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
