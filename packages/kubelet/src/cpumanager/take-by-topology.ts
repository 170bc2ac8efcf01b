import { CpuSet } from './cpu-set';
import type { CpuTopology } from './cpu-topology';

/** The available CPUs grouped by socket and core, in upstream's packed order. */
function packedCores(
  topology: CpuTopology,
  available: CpuSet,
): { socket: number; core: number; cpus: CpuSet }[] {
  const cores = new Map<number, { socket: number; core: number; ids: number[] }>();
  for (const cpu of available.list()) {
    const info = topology.details.get(cpu);
    if (!info) continue;
    const entry = cores.get(info.coreId) ?? { socket: info.socketId, core: info.coreId, ids: [] };
    entry.ids.push(cpu);
    cores.set(info.coreId, entry);
  }
  const perSocket = new Map<number, number>();
  for (const { socket, ids } of cores.values())
    perSocket.set(socket, (perSocket.get(socket) ?? 0) + ids.length);
  // Sockets with the fewest available CPUs first, then cores with the fewest, ties by id: an
  // allocation fills what is already partly used before it breaks into a free socket or core.
  return [...cores.values()]
    .sort(
      (a, b) =>
        (perSocket.get(a.socket) ?? 0) - (perSocket.get(b.socket) ?? 0) ||
        a.socket - b.socket ||
        a.ids.length - b.ids.length ||
        a.core - b.core,
    )
    .map(({ socket, core, ids }) => ({ socket, core, cpus: new CpuSet(ids) }));
}

/**
 * Upstream's takeByTopology (takeByTopologyNUMAPacked, the static policy's default): whole
 * sockets while the request needs at least one, then whole cores while it needs at least a
 * core's worth, then single CPUs, each step in the packed order. NUMA nodes are taken as one
 * with their socket (the common one-node-per-socket layout).
 */
export function takeByTopology(topology: CpuTopology, available: CpuSet, count: number): CpuSet {
  if (count === 0) return new CpuSet();
  if (available.size < count)
    throw new Error(
      `not enough cpus available to satisfy request: requested=${count}, available=${available.size}`,
    );
  let taken = new CpuSet();
  const needs = (n: number) => n > 0 && count - taken.size >= n;
  const take = (cpus: CpuSet) => {
    taken = taken.union(cpus);
  };
  const allCpus = topology.cpus();
  const perSocket = topology.cpusPerSocket();
  for (const socket of [...new Set([...topology.details.values()].map((info) => info.socketId))].sort(
    (a, b) => a - b,
  )) {
    const cpus = new CpuSet(
      [...topology.details].filter(([, info]) => info.socketId === socket).map(([cpu]) => cpu),
    );
    if (needs(perSocket) && cpus.isSubsetOf(available) && cpus.isSubsetOf(allCpus)) take(cpus);
  }
  const perCore = topology.cpusPerCore();
  for (const core of packedCores(topology, available.difference(taken))) {
    if (needs(perCore) && core.cpus.size === perCore) take(core.cpus);
  }
  for (const core of packedCores(topology, available.difference(taken))) {
    for (const cpu of core.cpus.list()) if (needs(1)) take(new CpuSet([cpu]));
  }
  return taken;
}
