import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** How many removals in one directory park at once; a further one removes its tree where it is. */
export const parkingNames = 8;

/** The parking names this process is removing a tree under now. */
const parked = new Set<string>();

/**
 * Removes a directory tree as `rm -rf` does, after renaming it to `.removing-<n>` in the same
 * directory, a name every removal there reuses.
 *
 * A directory removed under its own name (a pod's uid) leaves that name in the kernel's dentry
 * cache as a negative entry, charged to the memory cgroup of the process that looked it up until
 * memory runs short: about 220 bytes for every pod the node ever ran, growing with each one. A
 * rename moves the entry to the new name, so only the few reused names stay cached.
 *
 * Where the rename cannot be made (the tree is a mount point or on another file system, or
 * every parking name is in use), the tree is removed where it is. A tree already gone is not an
 * error, as with `force`.
 */
export async function removeTree(path: string): Promise<void> {
  const parking = reserveParking(dirname(path));
  if (parking === undefined) return rm(path, { recursive: true, force: true });
  try {
    // Left over by a kubelet that stopped mid-removal: rename cannot replace a full directory.
    await rm(parking, { recursive: true, force: true });
    try {
      await rename(path, parking);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      return await rm(path, { recursive: true, force: true });
    }
    await rm(parking, { recursive: true, force: true });
  } finally {
    parked.delete(parking);
  }
}

/** Whether a directory entry is a tree being removed (or left mid-removal) rather than a pod's. */
export function isParkingName(name: string): boolean {
  return name.startsWith('.removing-');
}

function reserveParking(parent: string): string | undefined {
  for (let n = 0; n < parkingNames; n++) {
    const parking = join(parent, `.removing-${n}`);
    if (parked.has(parking)) continue;
    parked.add(parking);
    return parking;
  }
  return undefined;
}
