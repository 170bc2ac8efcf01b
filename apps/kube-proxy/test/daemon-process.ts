import { join } from 'node:path';

// What the tests that run the real binary as a daemon share.

const appRoot = join(import.meta.dirname, '..');

/** The binary's entry, run from source. */
export const cli = join(appRoot, 'src', 'cli.ts');

/** The workspace's tsx wrapper, for one-shot commands. */
export const tsx = join(appRoot, '..', '..', 'node_modules', '.bin', 'tsx');

/**
 * Node arguments that run `cli` through tsx's loader. Daemons run as node itself so that a
 * signal (or afterAll's SIGKILL) reaches the proxy, not a tsx wrapper that could leave it running.
 */
export const nodeWithTsx = ['--import', 'tsx', '--conditions=@nodeagent/source'];

/**
 * Polls `fn` every 200 ms until `ok` holds or `timeoutMs` passes; returns the last value. The
 * default leaves room for a daemon started through tsx on a machine whose cores are all busy.
 */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
    v = await fn();
  }
  return v;
}
