import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '@nodeagent/testing/netns';
import { sweepDeadOwnerDirs } from './dead-owner-dirs';

/**
 * One directory per test run where builds several test files need (the single executables, their
 * bundles) are made once and shared, across workers. The run's global setup
 * (tools/bundle/sweep-setup.ts) creates it, names it in this variable for the workers it starts,
 * and removes it at the run's end; a file run without it gets a directory of its own process,
 * removed when that process exits. A build's key names what it is made from besides the sources
 * (target, options, runtime version); the sources are the tree as it is when the first file asks:
 * one run, one build. (Keyed by a hash of the sources too, the run rebuilt whenever anyone saved a
 * file in the checkout meanwhile, three kube-proxies in one run again.)
 */
export const RUN_CACHE_ENV = 'NODEAGENT_RUN_CACHE';

/** `na-run-cache-<pid of the process that made it>-<random>`, so a dead run's is swept. */
const RUN_CACHE_PREFIX = 'na-run-cache-';

/** How often a file waiting for another worker's build looks again. */
const WAIT_POLL_MS = 250;

/** Creates the run's cache directory, after removing those of runs that have gone. */
export function createRunCache(dir: string = tmpdir()): string {
  sweepRunCaches(dir);
  return mkdtempSync(join(dir, `${RUN_CACHE_PREFIX}${process.pid}-`));
}

/** Removes the cache directories of processes that have gone (a run killed before its teardown). */
export function sweepRunCaches(dir: string = tmpdir()): string[] {
  return sweepDeadOwnerDirs(dir, RUN_CACHE_PREFIX);
}

let ownCache: string | undefined;

/** The run's cache directory, or this process's own when no global setup made one. */
export function runCacheDir(): string {
  const shared = process.env[RUN_CACHE_ENV];
  if (shared) return shared;
  if (!ownCache) {
    const dir = createRunCache();
    ownCache = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return ownCache;
}

/**
 * The result of `build` for `key`, made once per run: the first caller (in any worker) builds into
 * a directory of its own under the run's cache and records the result (JSON); the others wait for
 * it and get that record. A builder that dies leaves its lock to be taken over; one that fails
 * releases it, and the next caller tries again (and fails the same way, with its own error).
 */
export async function sharedBuild<T>(key: string, build: (dir: string) => Promise<T>): Promise<T> {
  const entry = join(runCacheDir(), key);
  const record = join(entry, 'result.json');
  const lock = `${entry}.lock`;
  for (;;) {
    const done = readRecord<T>(record);
    if (done !== undefined) return done;
    if (takeLock(lock)) break;
    await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
  }
  try {
    const again = readRecord<T>(record);
    if (again !== undefined) return again;
    rmSync(entry, { recursive: true, force: true });
    mkdirSync(entry, { recursive: true });
    const result = await build(entry);
    writeFileSync(`${record}.tmp`, JSON.stringify(result));
    renameSync(`${record}.tmp`, record);
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function readRecord<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Takes the lock (a directory holding its owner's PID), or a dead owner's; false while a live one holds it. */
function takeLock(lock: string): boolean {
  // Made whole beside it and renamed into place: the lock never exists without its PID.
  const staged = mkdtempSync(`${lock}.staged-`);
  writeFileSync(join(staged, 'pid'), String(process.pid));
  try {
    renameSync(staged, lock);
    return true;
  } catch (err) {
    rmSync(staged, { recursive: true, force: true });
    if (!['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
  const owner = readRecord<number>(join(lock, 'pid'));
  if (owner === undefined || isProcessAlive(owner)) return false;
  rmSync(lock, { recursive: true, force: true });
  return false; // Taken on the next look, unless another waiter takes it first.
}
