import { execFile } from 'node:child_process';
import { readdir, readFile, readlink, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
// By path, not through the package: tools/containerd is loaded by plain `node --import tsx` (benches,
// orphaned starters) where the workspace-source condition is not set, and the module is dependency-free.
import { parseMountinfo } from '../../packages/testing/src/netns/mountinfo';
import { isProcessAlive } from '../../packages/testing/src/netns/process-alive';

const run = promisify(execFile);

/** Inode numbers of the network namespaces bind-mounted at `paths` (missing paths are skipped). */
export async function netnsInodes(paths: string[]): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const p of paths) {
    try {
      inodes.add(String((await stat(p)).ino));
    } catch {
      // already gone
    }
  }
  return inodes;
}

/**
 * PIDs whose network namespace is one of `inodes`. containerd, its shims and every container of a
 * private containerd live in its netns or in a pod netns it created, so this finds exactly what we
 * started and nothing of anyone else's.
 */
export async function pidsInNetns(inodes: Set<string>): Promise<number[]> {
  const pids: number[] = [];
  if (inodes.size === 0) return pids;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const link = await readlink(`/proc/${entry}/ns/net`);
      const m = /^net:\[(\d+)\]$/.exec(link);
      if (m?.[1] && inodes.has(m[1])) pids.push(Number(entry));
    } catch {
      // process exited while we looked
    }
  }
  return pids.filter((p) => p !== process.pid);
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already exited
  }
}

/** Running, not merely a zombie waiting to be reaped. */
export const isAlive = isProcessAlive;

export async function waitForExit(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !isAlive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !isAlive(p));
}

/** SIGKILL each of `pids` and wait up to `timeoutMs` for them to be gone. */
export async function killAndWait(pids: number[], timeoutMs: number): Promise<void> {
  for (const pid of pids) killQuietly(pid, 'SIGKILL');
  await waitForExit(pids, timeoutMs);
}

/** Mount points at or below `dir`, deepest first (the order they must be unmounted in). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const points = new Set<string>();
  for (const { point } of parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'))) {
    if (point === dir || point.startsWith(`${dir}/`)) points.add(point);
  }
  return [...points].sort((a, b) => b.length - a.length);
}

export async function unmountAllUnder(dir: string): Promise<void> {
  for (let pass = 0; pass < 3; pass++) {
    const points = await mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) {
      await run('umount', ['-l', p]).catch(() => undefined);
    }
  }
}
