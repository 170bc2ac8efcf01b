import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { goAtoi } from '@nodeagent/primitives/go-text';
import {
  type CgroupHierarchy,
  cgroupPathError,
  moveProcessToCgroup,
  type ProcsWriter,
  writeProcs,
} from './cgroup-process-move';
import { isKernelPid } from './host-processes';
import type { ProcessCgroupOptions } from './kubelet-process-cgroup';

/** The root cgroup's cgroup.procs: the unified tree's, or on v1 the devices tree's (upstream's GetPids("/")). */
async function rootProcsFile(hierarchy: CgroupHierarchy): Promise<string> {
  if (hierarchy.version === 2) return join(hierarchy.mountRoot, 'cgroup.procs');
  const entries = await readdir(hierarchy.mountRoot, { withFileTypes: true }).catch(() => []);
  const devices = entries.find((entry) => entry.isDirectory() && entry.name.split(',').includes('devices'));
  if (devices === undefined) throw new Error('mountpoint for devices not found');
  return join(hierarchy.mountRoot, devices.name, 'cgroup.procs');
}

/** The pids in the root cgroup, read as libcontainer's readProcsFile (Go's texts on failure). */
export async function rootCgroupPids(hierarchy: CgroupHierarchy): Promise<number[]> {
  const file = await rootProcsFile(hierarchy);
  const text = await readFile(file, 'utf8').catch((error) => {
    throw new Error(cgroupPathError(error));
  });
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const pid = goAtoi(line);
      if ('error' in pid) throw new Error(pid.error);
      return pid.value;
    });
}

/** The root's pids that move: all but pid 1 and kernel threads (left at the root so no quota ties them). */
async function movablePids(options: ProcessCgroupOptions, pids: number[]): Promise<number[]> {
  const movable: number[] = [];
  for (const pid of pids) if (pid !== 1 && !(await isKernelPid(options.procRoot, pid))) movable.push(pid);
  return movable;
}

/**
 * upstream's ensureSystemCgroups: every non-kernel process of the root cgroup but pid 1 moved
 * into `systemCgroups` (created when missing), re-listing until none is left, eleven rounds at
 * most; only the last failure is kept. The kubelet itself moves too when it sits at the root
 * (its own cgroup, kubeletCgroups, is ensured after).
 */
export async function ensureSystemCgroups(
  options: ProcessCgroupOptions,
  systemCgroups: string,
): Promise<void> {
  const write: ProcsWriter = options.writeProcs ?? writeProcs;
  let finalError: string | undefined;
  for (let round = 0; round <= 10; round++) {
    let all: number[];
    try {
      all = await rootCgroupPids(options.hierarchy);
    } catch (error) {
      finalError = `failed to list PIDs for root: ${(error as Error).message}`;
      continue;
    }
    const pids = await movablePids(options, all);
    if (pids.length === 0) return;
    options.logger.debug?.({ pids }, 'Moving non-kernel processes');
    for (const pid of pids) {
      await moveProcessToCgroup(options.hierarchy, systemCgroups, pid, write).catch(() => {
        // Upstream prints the error of its GetCgroups call (a shadowed err, always nil), not the
        // move's: the words are kept, `<nil>` included.
        finalError = `failed to move PID ${pid} into the system container ${JSON.stringify(systemCgroups)}: <nil>`;
      });
    }
  }
  if (finalError !== undefined) throw new Error(finalError);
}
