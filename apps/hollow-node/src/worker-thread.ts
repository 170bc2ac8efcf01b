import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread running `entry` with `workerData`. A JavaScript entry (the bundled
 * binary, dist/) runs as it is. A TypeScript entry (the sources, under tsx or vitest) cannot be
 * loaded by Node 20 itself: the thread runs the checkout's dev/ts-worker.mjs, which registers
 * tsx's loader first, and resolves workspace packages to their sources as the parent does.
 */
export function startWorkerThread(entry: string, workerData: unknown): Worker {
  if (!entry.endsWith('.ts')) return new Worker(entry, { workerData });
  return new Worker(new URL('../dev/ts-worker.mjs', import.meta.url), {
    workerData,
    argv: [pathToFileURL(entry).href],
    execArgv: ['--conditions=@nodeagent/source'],
  });
}
