import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '@nodeagent/testing/netns';

/**
 * Removes the entries of `dir` named `<prefix><pid>-…` whose process has gone: temp dirs a
 * process made for itself and could not remove (a vitest worker is stopped without running exit
 * hooks; a run killed before its teardown). Returns the names removed; another user's entries
 * (a sticky /tmp) are left to them.
 */
export function sweepDeadOwnerDirs(dir: string, prefix: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number.parseInt(name.slice(prefix.length), 10);
    if (Number.isNaN(pid) || isProcessAlive(pid)) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Another user's: theirs to sweep.
    }
  }
  return removed;
}
