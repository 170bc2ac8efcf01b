import { float32Fraction, formatBinary, parseQuantity, percentageOf } from '@nodeagent/primitives';
import type { KubeletConfiguration } from '../config/kubelet-configuration';
import { isMemoryType, type NumaMemory } from './numa-memory';

/** NUMA node id → memory type → bytes kept for the system there (upstream systemReservedMemory). */
export type SystemReservedMemory = Record<number, Record<string, number>>;

/**
 * An amount with the form upstream's resource.Quantity would print it in: the sums in the
 * reservation check print binary (`1124Mi`) when their first addend was written that way.
 */
interface Amount {
  bytes: number;
  binary: boolean;
}

function amountOf(text: string): Amount {
  return { bytes: Math.trunc(parseQuantity(text)), binary: /[KMGTPE]i$/.test(text) };
}

/** Upstream Quantity.Add: a sum that is still zero takes the form of what is added. */
function add(sum: Amount | undefined, next: Amount): Amount {
  if (!sum || sum.bytes === 0) return { bytes: (sum?.bytes ?? 0) + next.bytes, binary: next.binary };
  return { bytes: sum.bytes + next.bytes, binary: sum.binary };
}

/** Upstream Quantity.String in canonical form: binary suffixes, or decimal ones (`1G`, `1500k`). */
function quantityText({ bytes, binary }: Amount): string {
  if (binary && Math.abs(bytes) >= 1024) return formatBinary(bytes);
  let value = bytes;
  for (const suffix of ['', 'k', 'M', 'G', 'T', 'P']) {
    if (value === 0 || value % 1000 !== 0) return `${value}${suffix}`;
    value /= 1000;
  }
  return `${value}E`;
}

/**
 * Upstream GetNodeAllocatableReservation for the memory types: systemReserved, then kubeReserved,
 * then the hard eviction threshold (memory.available, a percentage taken of the capacity).
 */
export function memoryAllocatableReservation(
  config: Pick<KubeletConfiguration, 'systemReserved' | 'kubeReserved' | 'evictionHard'>,
  memoryCapacityBytes: number,
): Record<string, Amount> {
  const result: Record<string, Amount> = {};
  for (const list of [config.systemReserved, config.kubeReserved])
    for (const [name, text] of Object.entries(list))
      if (isMemoryType(name)) result[name] = add(result[name], amountOf(text));
  const threshold = config.evictionHard['memory.available'];
  if (threshold !== undefined) {
    const eviction = threshold.endsWith('%')
      ? {
          bytes: percentageOf(memoryCapacityBytes, float32Fraction(Number(threshold.slice(0, -1)))),
          binary: true,
        }
      : amountOf(threshold);
    result.memory = add(result.memory, eviction);
  }
  for (const [name, amount] of Object.entries(result)) if (amount.bytes === 0) delete result[name];
  return result;
}

/**
 * Upstream getSystemReservedMemory: reservedMemory must name only the machine's NUMA nodes, and
 * for each memory type its sum over the nodes must equal what Node allocatable reserves for that
 * type; then the per-node amounts. Throws an Error with upstream's text.
 */
export function systemReservedMemory(
  nodes: readonly NumaMemory[],
  reservedMemory: KubeletConfiguration['reservedMemory'],
  reservation: Record<string, Amount>,
): SystemReservedMemory {
  const ids = new Set(nodes.map((node) => node.id));
  const totals: Record<string, Amount> = {};
  for (const { numaNode, limits } of reservedMemory) {
    if (!ids.has(numaNode))
      throw new Error(
        `the reserved memory configuration references a NUMA node ${numaNode} that does not exist on this machine`,
      );
    // Upstream adds the running total to each new limit, so the sum prints as the last one did.
    for (const [name, text] of Object.entries(limits))
      totals[name] = add(amountOf(text), totals[name] ?? { bytes: 0, binary: false });
  }
  const types = [
    ...new Set([...Object.keys(totals), ...Object.keys(reservation).filter(isMemoryType)]),
  ].sort();
  for (const type of types) {
    const reserved = totals[type] ?? { bytes: 0, binary: false };
    const allocatable = reservation[type] ?? { bytes: 0, binary: false };
    if (reserved.bytes !== allocatable.bytes)
      throw new Error(
        `the total amount ${JSON.stringify(quantityText(reserved))} of type ${JSON.stringify(type)} is not equal to the value ${JSON.stringify(quantityText(allocatable))} determined by Node Allocatable feature`,
      );
  }
  const result: SystemReservedMemory = {};
  for (const node of nodes) result[node.id] = {};
  for (const { numaNode, limits } of reservedMemory)
    for (const [name, text] of Object.entries(limits)) result[numaNode]![name] = amountOf(text).bytes;
  return result;
}
