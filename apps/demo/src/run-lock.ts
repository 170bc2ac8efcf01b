import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '@nodeagent/testing/netns';
import { AlreadyRunningError } from './errors';

/**
 * One demo at a time: a run takes most of a small machine, and the lock is where a run records
 * what it made so the next run can clean up after a crash. NODEAGENT_DEMO_LOCK moves it: the
 * end-to-end tests use their own, so a demo someone is running does not make them exit 2 (every
 * name a run makes is unique to it, so two runs with different locks do not share anything).
 */
export const defaultLockPath = process.env.NODEAGENT_DEMO_LOCK || join(tmpdir(), 'nodeagent-demo.lock');

/** What a run records in its lock so a later run can clean up if it died without teardown. */
export interface RunRecord {
  pid: number;
  stateDir?: string;
  /** containerd's temp dir (holds instance.json). */
  runtimeDir?: string;
  /** The node network namespace (the first node's with several). */
  netns?: string;
  /** Every node's namespace and containerd dir (--nodes N); older records have only the two above. */
  nodes?: { netns?: string; runtimeDir?: string }[];
  /** The multi-node box's fabric namespace. */
  fabricNetns?: string;
}

export interface RunLock {
  path: string;
  /** The record of a dead run whose lock was taken over (its leftovers may need cleaning). */
  previous?: RunRecord;
  /** Adds what this run created to the lock file. */
  record(details: Omit<RunRecord, 'pid'>): void;
  release(): void;
}

/** Lock file: the owner's PID on the first line, optionally a JSON RunRecord on the second. */
function readLock(path: string): RunRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [first, second] = text.split('\n');
  const pid = Number.parseInt(first ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return second ? { ...(JSON.parse(second) as RunRecord), pid } : { pid };
  } catch {
    return { pid };
  }
}

/**
 * Takes the lock file (O_EXCL). A lock left by a dead process is taken over (and reported as
 * `previous`); a live one refuses with AlreadyRunningError naming its PID.
 */
export function acquireRunLock(path = defaultLockPath, pid = process.pid): RunLock {
  let previous: RunRecord | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: 'wx' });
      let released = false;
      return {
        path,
        previous,
        record(details) {
          if (readLock(path)?.pid === pid)
            writeFileSync(path, `${pid}\n${JSON.stringify({ ...details, pid })}\n`);
        },
        release() {
          if (released) return;
          released = true;
          // Only remove our own lock (never one a later run took over).
          if (readLock(path)?.pid === pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readLock(path);
      if (owner !== undefined && owner.pid !== pid && isProcessAlive(owner.pid))
        throw new AlreadyRunningError(path, owner.pid);
      previous = owner;
      rmSync(path, { force: true });
    }
  }
  throw new AlreadyRunningError(path, readLock(path)?.pid ?? -1);
}
