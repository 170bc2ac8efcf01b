import { creatorPidOf } from './names';
import { deleteNetns, listNetns } from './netns';
import { isProcessAlive } from './process-alive';

/** The process check, listing and removal stale cleanup uses (tests inject them). */
export interface StaleCleanupOptions {
  /** Whether the owner process still runs (default: signal 0). */
  isAlive?: (pid: number) => boolean;
  /** The namespaces there are (default `ip netns list`). */
  list?: () => Promise<string[]>;
  /** Deletes one (default deleteNetns). */
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
