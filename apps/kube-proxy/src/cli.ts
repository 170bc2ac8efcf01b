#!/usr/bin/env node
import { glibcTrimFreeHeap, releaseFreeHeapPeriodically } from '@nodeagent/primitives/free-heap-release';
import { buildProgram } from './program';
import type { RunningProxy } from './run-proxy';

let running: RunningProxy | undefined;
const program = buildProgram({
  onStarted: (proxy) => {
    running = proxy;
  },
});

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    // commander's exitOverride: --help / --version / usage errors.
    const code = (err as { exitCode?: number }).exitCode;
    process.exit(code ?? 1);
  }
  if (program.exitCode && program.exitCode !== 0) process.exit(program.exitCode);
  if (running) {
    process.once('SIGTERM', shutDown);
    process.once('SIGINT', shutDown);
    const trim = await glibcTrimFreeHeap(() => import('koffi'));
    if (trim) releaseFreeHeapPeriodically(trim);
  }
}

/** The most SIGTERM/SIGINT waits for the informers and servers to close before the process exits. */
const SHUTDOWN_GRACE_MS = 2000;

/**
 * SIGTERM/SIGINT: exit now, as upstream's process does, without waiting for a sync in progress
 * (at 5,000 Services × 50 endpoints one iptables-restore runs for over a minute). The kernel
 * keeps what the last completed write left: a child iptables-restore is left to itself, its
 * input cut where this process stopped writing, and it commits no table whose COMMIT it did
 * not receive ("COMMIT expected", exit 1); an nf_tables batch is committed by the kernel only
 * whole. A second signal kills the process at once (the handlers run once).
 */
function shutDown(): void {
  const exit = () => process.exit(0);
  setTimeout(exit, SHUTDOWN_GRACE_MS).unref();
  running?.stop({ waitForSync: false }).then(exit, exit);
}

void main();
