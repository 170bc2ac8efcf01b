import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { systemReason } from '@nodeagent/primitives';

/**
 * What the container manager reads of the host's processes in /proc, with the root injected
 * ("/proc" on a node) so tests stand a temporary directory in for it.
 */

/** Where procfs is mounted on a node. */
export const defaultProcRoot = '/proc';

/**
 * A kernel thread has no executable: readlink of /proc/<pid>/exe fails with ENOENT (upstream's
 * isKernelPid). Any other failure (EACCES…) counts as a user process.
 */
export async function isKernelPid(procRoot: string, pid: number): Promise<boolean> {
  return readlink(join(procRoot, String(pid), 'exe')).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
}

/**
 * Whether `pid` shares init's pid namespace (upstream's isProcessRunningInHost), with its error
 * texts: a kubelet in a container leaves its cgroups to the container's owner.
 */
export async function isProcessRunningInHost(procRoot: string, pid: number): Promise<boolean> {
  const initNs = await readlink(join(procRoot, '1', 'ns', 'pid')).catch(() => {
    throw new Error('failed to find pid namespace of init process');
  });
  const processNs = await readlink(join(procRoot, String(pid), 'ns', 'pid')).catch(() => {
    throw new Error(`failed to find pid namespace of process ${pid}`);
  });
  return initNs === processNs;
}

/**
 * /proc/<pid>/cgroup as a map from controller to cgroup path ("" for the unified hierarchy,
 * "name=systemd" for systemd's v1 tree), as libcontainer's ParseCgroupFile.
 */
export function parseProcCgroup(text: string): Map<string, string> {
  const cgroups = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0)
      throw new Error(`invalid cgroup entry: must contain at least two colons: ${line}`);
    for (const controller of line.slice(first + 1, second).split(','))
      cgroups.set(controller, line.slice(second + 1));
  }
  return cgroups;
}

/** The process's /proc/<pid>/cgroup, parsed; a failed read gives Go's `open <path>: …`. */
export async function readProcCgroup(procRoot: string, pid: number): Promise<Map<string, string>> {
  const file = join(procRoot, String(pid), 'cgroup');
  const text = await readFile(file, 'utf8').catch((error) => {
    throw new Error(`open ${file}: ${systemReason(error)}`);
  });
  return parseProcCgroup(text);
}
