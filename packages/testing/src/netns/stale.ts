import { creatorPidOf } from './names';
import { deleteNetns, listNetns } from './netns';

/** Is a process with this pid still running? (signal 0 only checks existence). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StaleCleanupOptions {
  isAlive?: (pid: number) => boolean;
  list?: () => Promise<string[]>;
  remove?: (name: string) => Promise<void>;
}

/**
 * Delete namespaces named by uniqueNetnsName whose creating process is gone (a test run that
 * was killed before its cleanup ran). Foreign namespaces and those of live processes are kept.
 * Returns the deleted names.
 */
export async function cleanupStaleNetns(options: StaleCleanupOptions = {}): Promise<string[]> {
  const isAlive = options.isAlive ?? isProcessAlive;
  const remove = options.remove ?? deleteNetns;
  const deleted: string[] = [];
  for (const name of await (options.list ?? listNetns)()) {
    const pid = creatorPidOf(name);
    if (pid === undefined || isAlive(pid)) continue;
    await remove(name);
    deleted.push(name);
  }
  return deleted;
}
