import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from './process-sweep';

/**
 * Every private containerd registers itself here with the PID of the process that owns it. If a
 * test process dies without calling stop() (killed by a timeout, a crash), the next
 * startContainerd() finds the entry, sees the owner gone, and tears that instance down.
 */
export const REGISTRY_DIR = join(tmpdir(), 'nodeagent-containerd-instances');

export interface RegistryEntry<T> {
  ownerPid: number;
  /** Detached instances (the CLI's) outlive their starter on purpose and are never swept. */
  detached: boolean;
  info: T;
}

export async function register<T extends { netns: string }>(info: T, detached: boolean): Promise<void> {
  await mkdir(REGISTRY_DIR, { recursive: true });
  const entry: RegistryEntry<T> = { ownerPid: process.pid, detached, info };
  await writeFile(join(REGISTRY_DIR, `${info.netns}.json`), JSON.stringify(entry));
}

export async function unregister(netns: string): Promise<void> {
  await rm(join(REGISTRY_DIR, `${netns}.json`), { force: true });
}

/** Entries whose owner process is gone (and that were not started detached). */
export async function staleEntries<T>(): Promise<Array<RegistryEntry<T>>> {
  let files: string[];
  try {
    files = await readdir(REGISTRY_DIR);
  } catch {
    return [];
  }
  const stale: Array<RegistryEntry<T>> = [];
  for (const f of files) {
    if (!f.endsWith('.json')) continue;
    try {
      const entry = JSON.parse(await readFile(join(REGISTRY_DIR, f), 'utf8')) as RegistryEntry<T>;
      if (!entry.detached && !isAlive(entry.ownerPid)) stale.push(entry);
    } catch {
      // half-written by a concurrent starter: not ours to judge yet
    }
  }
  return stale;
}
