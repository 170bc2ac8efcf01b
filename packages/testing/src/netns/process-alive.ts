import { readFileSync } from 'node:fs';

/**
 * The process's state letter from /proc/<pid>/stat (R, S, D, Z, X, …), or undefined where /proc
 * has no such process (or no /proc at all). The command name may hold spaces and parentheses, so
 * the state is read after the last ')'.
 */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Is a process with this pid still running? Signal 0 checks that the pid exists; a zombie (state Z
 * or X: exited, waiting for its parent or init to reap it) exists too but is dead, and a lock or a
 * namespace it held is stale. Init reaps a SIGKILLed orphan when it gets to it, seconds later on
 * some machines.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else; ESRCH: no such process.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = processState(pid);
  return state !== 'Z' && state !== 'X';
}
