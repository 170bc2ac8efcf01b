import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemReason } from '@nodeagent/primitives';
import { goAggregateText } from '@nodeagent/primitives/go-text';
import {
  type CgroupHierarchy,
  moveProcessToCgroup,
  type ProcsWriter,
  writeProcs,
} from './cgroup-process-move';
import { isProcessRunningInHost, readProcCgroup } from './host-processes';

/** The logger calls of this file: debug is klog's V(2)-V(3), trace V(4) and up. */
export interface ProcessCgroupLogger {
  /** What upstream logs with klog's InfoS at the default verbosity. */
  info(obj: object, msg?: string): void;
  /** klog's V(2)-V(3) lines (a process outside the host's pid namespace, an oom_score_adj not applied). */
  debug?(obj: object, msg?: string): void;
  /** klog's V(4) and finer lines (each oom_score_adj attempt). */
  trace?(obj: object, msg?: string): void;
}

/** Where a process is put and how its files are reached (all injectable for tests). */
export interface ProcessCgroupOptions {
  hierarchy: CgroupHierarchy;
  /** procfs ("/proc" on a node). */
  procRoot: string;
  logger: ProcessCgroupLogger;
  /** cgroup.procs writes; the kernel's by default. */
  writeProcs?: ProcsWriter;
}

/**
 * The cgroup that holds `pid` for accounting (upstream's getContainer): the unified entry on
 * v2; on v1 the cpu tree's, which must equal the memory tree's, or name=systemd's when present.
 */
export async function processCgroupName(options: ProcessCgroupOptions, pid: number): Promise<string> {
  const cgroups = await readProcCgroup(options.procRoot, pid);
  if (options.hierarchy.version === 2) {
    const unified = cgroups.get('');
    if (unified === undefined) throw new Error('mountpoint for unified not found');
    return unified;
  }
  const cpu = cgroups.get('cpu');
  if (cpu === undefined) throw new Error('mountpoint for cpu not found');
  const memory = cgroups.get('memory');
  if (memory === undefined) throw new Error('mountpoint for memory not found');
  if (cpu !== memory)
    throw new Error(`cpu and memory cgroup hierarchy not unified.  cpu: ${cpu}, memory: ${memory}`);
  const systemd = cgroups.get('name=systemd');
  if (systemd === undefined) return cpu;
  // systemd keeps accounting off unless asked: the process's stats then come from an ancestor.
  if (systemd !== cpu) options.logger.info({ pid }, 'CPUAccounting not enabled for process');
  if (systemd !== memory) options.logger.info({ pid }, 'MemoryAccounting not enabled for process');
  return systemd;
}

/**
 * /proc/<pid>/oom_score_adj written (upstream's oom.ApplyOOMScoreAdj, tried once here where
 * upstream tries twice 100 ms apart); a vanished process is Go's os.ErrNotExist. Other failures
 * read as Go's PathError (`open /proc/1/oom_score_adj: permission denied`).
 */
async function applyOomScoreAdj(procRoot: string, pid: number, value: number): Promise<void> {
  await writeFile(join(procRoot, String(pid), 'oom_score_adj'), String(value)).catch(
    (error: NodeJS.ErrnoException) => {
      throw error.code === 'ENOENT' ? new Error('file does not exist') : error;
    },
  );
}

/** The move half: into `cgroupName` unless /proc/<pid>/cgroup already names it. */
async function ensureInCgroup(
  options: ProcessCgroupOptions,
  pid: number,
  cgroupName: string,
): Promise<string[]> {
  const errors: string[] = [];
  let current = '';
  try {
    current = await processCgroupName(options, pid);
  } catch (error) {
    errors.push(`failed to find container of PID ${pid}: ${(error as Error).message}`);
  }
  if (current !== cgroupName) {
    await moveProcessToCgroup(options.hierarchy, cgroupName, pid, options.writeProcs ?? writeProcs).catch(
      (error: Error) =>
        errors.push(
          `failed to move PID ${pid} (in ${JSON.stringify(current)}) to ${JSON.stringify(cgroupName)}: ${error.message}`,
        ),
    );
  }
  return errors;
}

/**
 * upstream's ensureProcessInContainerWithOOMScore: `pid` moved into `cgroupName` (when given)
 * and its oom_score_adj set; every failure is gathered into one error. A process outside init's
 * pid namespace (a containerised kubelet) is left alone.
 */
export async function ensureProcessInCgroupWithOomScore(
  options: ProcessCgroupOptions,
  pid: number,
  oomScoreAdj: number,
  cgroupName: string | undefined,
): Promise<void> {
  if (!(await isProcessRunningInHost(options.procRoot, pid))) {
    options.logger.debug?.({ pid }, 'PID is not running in the host namespace');
    return;
  }
  const errors = cgroupName === undefined ? [] : await ensureInCgroup(options, pid, cgroupName);
  options.logger.trace?.({ oomScoreAdj, pid }, 'Attempting to apply oom_score_adj to process');
  try {
    await applyOomScoreAdj(options.procRoot, pid, oomScoreAdj);
  } catch (error) {
    options.logger.debug?.(
      { oomScoreAdj, pid, err: String(error) },
      'Failed to apply oom_score_adj to process',
    );
    errors.push(`failed to apply oom score ${oomScoreAdj} to PID ${pid}: ${oomErrorText(error)}`);
  }
  if (errors.length > 0) throw new Error(goAggregateText(errors));
}

/** Go's text of the failed write (`open /proc/1/oom_score_adj: permission denied`). */
function oomErrorText(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.syscall && e.path ? `${e.syscall} ${e.path}: ${systemReason(e)}` : e.message;
}
