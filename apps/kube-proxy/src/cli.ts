#!/usr/bin/env node
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
    const stop = async () => {
      await running?.stop();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }
}

void main();
