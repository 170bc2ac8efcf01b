import { readFileSync } from 'node:fs';

/**
 * Open files one node may hold at once: its 5 watches, up to 8 request connections, its fake
 * runtime's socket, and the files its pods' start writes (etc-hosts, logs) while the burst is
 * queued on libuv's pool. 1,000 nodes × 30 pods started at once ran out at 20,000.
 */
export const OPEN_FILES_PER_NODE = 25;

/** The soft "Max open files" in the text of a /proc/<pid>/limits, or undefined (unlimited, unreadable). */
export function softOpenFilesLimit(limits: string | undefined): number | undefined {
  const line = limits?.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
}

/** This process's soft open files limit (see softOpenFilesLimit). */
export function openFilesSoftLimit(): number | undefined {
  try {
    return softOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * A warning when `nodes` nodes may need more open files than the soft limit allows, naming what
 * to raise (a Go binary such as kubemark's raises its soft limit to the hard one by itself; Node
 * cannot), or undefined when the limit is enough or unknown.
 */
export function openFilesWarning(nodes: number, softLimit: number | undefined): string | undefined {
  const needed = nodes * OPEN_FILES_PER_NODE;
  if (softLimit === undefined || softLimit >= needed) return undefined;
  return (
    `--nodes ${nodes} may need up to ${needed} open files and the soft limit is ${softLimit}: ` +
    `raise it (ulimit -n ${needed}, or prlimit --nofile=${needed}:${needed} -- nodeagent-hollow-node ...) ` +
    'or start fewer nodes, else pods fail with EMFILE during start-up bursts'
  );
}
