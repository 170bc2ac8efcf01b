import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@nodeagent/testing';
import { collectBenchGarbage } from './bench-gc';
import { monotonicNow } from './monotonic-clock';
import { percentile } from './percentile';

// The paced floor of one endpoint change (issue #54). The change floor's hot loop
// (change-floor-helper.ts) times the kernel alone, one transaction straight after another. A
// change reaches the daemon after 1.1 s of idle, and on this machine (a 2-vCPU KVM guest) what
// wakes an idle process has its own tail: the slowest changes were slow in every stage at once,
// with the hypervisor's steal in their windows. This floor has a minimal process
// in the namespace woken the same way: the bench collects its own garbage, waits the change
// spacing, writes one line to the helper's stdin and reads back when the kernel answered the
// helper's transaction. Its p99 is what any process on this machine shows for the same work.

const HELPER = fileURLToPath(new URL('./paced-floor-helper.ts', import.meta.url));

/** Write → kernel's answer for paced transactions (ms), and write → the helper's read. */
export interface PacedFloor {
  samples: number;
  spacingMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  wakeP50Ms: number;
  wakeP99Ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * `samples` transactions from `files` (forward, back) in `ns`, each after `spacingMs` of idle.
 * `nodeArgs` load the TypeScript helper: the bench runs under tsx, whose loader and source
 * conditions the helper gets by default.
 */
export async function pacedChangeFloor(
  ns: Netns,
  files: { forward: string; back: string },
  samples: number,
  spacingMs: number,
  nodeArgs: readonly string[] = process.execArgv,
): Promise<PacedFloor> {
  const child = ns.spawn(process.execPath, [...nodeArgs, HELPER, files.forward, files.back], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await lines.next();
    if (line.done) throw new Error(`the paced floor's helper ended before ${what}`);
    return line.value;
  };
  const total: number[] = [];
  const wake: number[] = [];
  try {
    await next('it was ready');
    for (let i = 0; i < samples; i++) {
      await collectBenchGarbage();
      await sleep(spacingMs);
      const writtenAt = monotonicNow();
      child.stdin?.write('\n');
      const { receivedAt, doneAt } = JSON.parse(await next(`answer ${i}`)) as {
        receivedAt: number;
        doneAt: number;
      };
      total.push(doneAt - writtenAt);
      wake.push(receivedAt - writtenAt);
    }
  } finally {
    child.stdin?.end();
    child.kill('SIGKILL');
  }
  return {
    samples,
    spacingMs,
    p50Ms: round(percentile(total, 50)),
    p99Ms: round(percentile(total, 99)),
    maxMs: round(Math.max(...total)),
    wakeP50Ms: round(percentile(wake, 50)),
    wakeP99Ms: round(percentile(wake, 99)),
  };
}
