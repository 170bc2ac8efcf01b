import { join } from 'node:path';
import { readPseudoFile } from '@nodeagent/primitives/pseudo-file';
import { type CgroupFileReader, parsePressure } from './cgroup-v2-stats';
import type { PodStats, PSIStats } from './summary-types';

/**
 * Where each pod's cgroup is (cgroup v2), so the summary can carry the pressure stall figures the
 * CRI stats leave out: upstream reads them per pod and container cgroup through cAdvisor
 * (KubeletPSI, GA in v1.36), containerd 1.6's ListContainerStats has no PSI at all.
 */
export interface PodCgroupDirs {
  /** The pod's cgroup directory (absolute, under the v2 mount) by pod UID; undefined when it has none. */
  podDir(uid: string): string | undefined;
}

/** cpu, memory and io pressure of one cgroup; a resource is absent where its file is. */
export interface CgroupPressure {
  cpu?: PSIStats;
  memory?: PSIStats;
  io?: PSIStats;
}

/**
 * The directories a runtime may give container `id` inside its pod's cgroup: `<id>` with the
 * cgroupfs driver (containerd's cgroupsPath parent/id), `cri-containerd-<id>.scope` with systemd.
 */
export function containerCgroupDirNames(id: string): string[] {
  return [id, `cri-containerd-${id}.scope`];
}

const readFromDisk: CgroupFileReader = (dir, file) => readPseudoFile(join(dir, file));

async function readOptional(read: CgroupFileReader, dir: string, file: string): Promise<string | undefined> {
  return read(dir, file).catch((error: NodeJS.ErrnoException) => {
    // No such cgroup (gone, or the other driver's name), or a kernel with PSI off.
    if (error.code === 'ENOENT' || error.code === 'EOPNOTSUPP') return undefined;
    throw error;
  });
}

/** The cpu/memory/io.pressure files of `dir`; undefined when it has none of them (no such cgroup, v1, PSI off). */
export async function readCgroupPressure(
  dir: string,
  read: CgroupFileReader = readFromDisk,
): Promise<CgroupPressure | undefined> {
  const [cpu, memory, io] = await Promise.all(
    (['cpu.pressure', 'memory.pressure', 'io.pressure'] as const).map((file) =>
      readOptional(read, dir, file),
    ),
  );
  if (cpu === undefined && memory === undefined && io === undefined) return undefined;
  const out: CgroupPressure = {};
  if (cpu !== undefined) out.cpu = parsePressure(cpu, join(dir, 'cpu.pressure'));
  if (memory !== undefined) out.memory = parsePressure(memory, join(dir, 'memory.pressure'));
  if (io !== undefined) out.io = parsePressure(io, join(dir, 'io.pressure'));
  return out;
}

/** Puts `pressure` into a pod's or container's cpu, memory and io figures (made at `time` where missing). */
function attach(
  target: Pick<PodStats, 'cpu' | 'memory' | 'io'>,
  pressure: CgroupPressure,
  time: string,
): void {
  if (pressure.cpu) target.cpu = { ...(target.cpu ?? { time }), psi: pressure.cpu };
  if (pressure.memory) target.memory = { ...(target.memory ?? { time }), psi: pressure.memory };
  if (pressure.io) target.io = { ...(target.io ?? { time }), psi: pressure.io };
}

/**
 * Adds PSI to every pod whose cgroup is known and to its containers (found by ID in
 * `containerIds`: pod UID → container name → ID), in place. A pod or container whose cgroup is
 * gone by now keeps the figures it had.
 */
export async function addCgroupPressure(
  pods: PodStats[],
  containerIds: ReadonlyMap<string, ReadonlyMap<string, string>>,
  dirs: PodCgroupDirs,
  time: string,
  read: CgroupFileReader = readFromDisk,
): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      const podDir = dirs.podDir(pod.podRef.uid);
      if (podDir === undefined) return;
      const podPressure = await readCgroupPressure(podDir, read);
      if (podPressure) attach(pod, podPressure, time);
      const ids = containerIds.get(pod.podRef.uid);
      await Promise.all(
        pod.containers.map(async (container) => {
          const id = ids?.get(container.name);
          if (id === undefined) return;
          for (const name of containerCgroupDirNames(id)) {
            const pressure = await readCgroupPressure(join(podDir, name), read);
            if (pressure) return attach(container, pressure, time);
          }
        }),
      );
    }),
  );
}
