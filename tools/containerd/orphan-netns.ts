import { existsSync, readFileSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
// By path, as process-sweep imports: this module is loaded without the workspace-source condition.
import { parseMountinfo } from '../../packages/testing/src/netns/mountinfo';
import { isAlive } from './process-sweep';

/** Where `ip netns add` puts a namespace's name. */
export const NETNS_DIR = '/run/netns';

/** startContainerd names its namespace `na-ctrd-<starter's pid>-<token>`. */
const INSTANCE_NETNS = /^na-ctrd-(\d+)-[0-9a-f]+$/;

/** Mount points in this process's mount namespace. */
export function mountPoints(): Set<string> {
  return new Set(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((mount) => mount.point));
}

export interface OrphanNetnsOptions {
  /** Directory of namespace names (default /run/netns). */
  dir?: string;
  /** Directory of the instance registry; a name registered there is the registry's sweep to judge. */
  registryDir: string;
}

/**
 * Removes names a private containerd left in /run/netns with nothing behind them. A run started in
 * a mount namespace of its own (the soak's --journalled-ext4) mounts its namespace there only, and
 * keeps its registry entry on a file system that goes with it; killed, it leaves the host an empty
 * file that `ip netns` lists with an error. Such a name is removed when its starter is gone, no
 * registry entry names it, and nothing is mounted on it here: it then holds no namespace.
 */
export async function sweepOrphanNetnsNames(opts: OrphanNetnsOptions): Promise<string[]> {
  const dir = opts.dir ?? NETNS_DIR;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const mounted = mountPoints();
  const removed: string[] = [];
  for (const name of names) {
    const starter = INSTANCE_NETNS.exec(name)?.[1];
    if (!starter || isAlive(Number(starter))) continue;
    const path = join(dir, name);
    if (mounted.has(path) || existsSync(join(opts.registryDir, `${name}.json`))) continue;
    await unlink(path).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}
