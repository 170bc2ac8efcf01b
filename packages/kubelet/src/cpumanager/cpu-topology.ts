import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CpuSet } from './cpu-set';

/** Where a logical CPU sits (upstream topology.CPUInfo). */
export interface CpuInfo {
  /** The socket (physical package). */
  socketId: number;
  /** The core, named by its lowest logical CPU id as upstream's getUniqueCoreID does. */
  coreId: number;
  numaNodeId: number;
}

/** The machine's online CPUs by socket, core and NUMA node (upstream topology.CPUTopology). */
export class CpuTopology {
  readonly details: ReadonlyMap<number, CpuInfo>;

  constructor(details: ReadonlyMap<number, CpuInfo>) {
    this.details = details;
  }

  /** Every CPU the topology holds (upstream CPUDetails.CPUs()): the node's CPU capacity. */
  cpus(): CpuSet {
    return new CpuSet(this.details.keys());
  }

  get numCores(): number {
    return new Set([...this.details.values()].map((info) => info.coreId)).size;
  }

  get numSockets(): number {
    return new Set([...this.details.values()].map((info) => info.socketId)).size;
  }

  /** Hyper-threads per core (upstream CPUsPerCore), 0 for an empty topology. */
  cpusPerCore(): number {
    return this.numCores === 0 ? 0 : this.details.size / this.numCores;
  }

  /** CPUs per socket (upstream CPUsPerSocket). */
  cpusPerSocket(): number {
    return this.numSockets === 0 ? 0 : this.details.size / this.numSockets;
  }

  /** The CPUs of the cores holding any of `cpus` (their hyper-thread siblings included). */
  coreSiblings(cpus: CpuSet): CpuSet {
    const cores = new Set(cpus.list().map((cpu) => this.details.get(cpu)?.coreId));
    return new CpuSet([...this.details].filter(([, info]) => cores.has(info.coreId)).map(([cpu]) => cpu));
  }
}

/** The host's /sys (tests pass a directory laid out the same way). */
export const defaultSysfsRoot = '/sys';

function readInt(path: string): number {
  return Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
}

/** CPU → NUMA node from devices/system/node/node<N>/cpulist; a machine without it is one node 0. */
function numaNodes(sysfsRoot: string): Map<number, number> {
  const nodeDir = join(sysfsRoot, 'devices/system/node');
  const byCpu = new Map<number, number>();
  let names: string[] = [];
  try {
    names = readdirSync(nodeDir).filter((name) => /^node\d+$/.test(name));
  } catch {
    return byCpu;
  }
  for (const name of names) {
    const cpus = CpuSet.parse(readFileSync(join(nodeDir, name, 'cpulist'), 'utf8').trim());
    for (const cpu of cpus.list()) byCpu.set(cpu, Number(name.slice(4)));
  }
  return byCpu;
}

/**
 * The online CPUs' topology as cAdvisor reads it for upstream's topology.Discover: each online
 * CPU's physical_package_id and core_id, threads with the same pair forming one core named by
 * its lowest CPU id, and its NUMA node.
 */
export function discoverCpuTopology(sysfsRoot = defaultSysfsRoot): CpuTopology {
  const cpuDir = join(sysfsRoot, 'devices/system/cpu');
  const online = CpuSet.parse(readFileSync(join(cpuDir, 'online'), 'utf8').trim());
  const numa = numaNodes(sysfsRoot);
  const raw = online.list().map((cpu) => {
    const topology = join(cpuDir, `cpu${cpu}`, 'topology');
    return {
      cpu,
      socket: readInt(join(topology, 'physical_package_id')),
      core: readInt(join(topology, 'core_id')),
    };
  });
  const lowest = new Map<string, number>();
  for (const { cpu, socket, core } of raw) {
    const key = `${socket}/${core}`;
    lowest.set(key, Math.min(lowest.get(key) ?? cpu, cpu));
  }
  const details = new Map<number, CpuInfo>();
  for (const { cpu, socket, core } of raw)
    details.set(cpu, {
      socketId: socket,
      coreId: lowest.get(`${socket}/${core}`) ?? cpu,
      numaNodeId: numa.get(cpu) ?? 0,
    });
  return new CpuTopology(details);
}
