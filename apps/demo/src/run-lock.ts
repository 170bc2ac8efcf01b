import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlreadyRunningError } from './errors';

/** One demo per machine: it owns the node name, the lock and (with containerd) real resources. */
export const defaultLockPath = join(tmpdir(), 'nodeagent-demo.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunLock {
  path: string;
  release(): void;
}

/**
 * Takes the lock file (O_EXCL). A lock left by a dead process is taken over; a live one refuses
 * with AlreadyRunningError naming its PID.
 */
export function acquireRunLock(path = defaultLockPath, pid = process.pid): RunLock {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: 'wx' });
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          // Only remove our own lock (never one a later run took over).
          if (readOwner(path) === pid) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(path);
      if (owner !== undefined && owner !== pid && alive(owner)) throw new AlreadyRunningError(path, owner);
      rmSync(path, { force: true });
    }
  }
  throw new AlreadyRunningError(path, readOwner(path) ?? -1);
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
