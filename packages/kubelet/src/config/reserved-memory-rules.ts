import { isInvalidQuantityError, parseQuantity } from '@nodeagent/primitives';
import type { KubeletConfiguration } from './configuration-fields';
import type { FieldProblem } from './feature-gated-field-rules';

/**
 * Upstream's validateReservedMemoryConfiguration, in its words: each NUMA node's reserved
 * limits are `memory` or `hugepages-<size>`, none zero, and no node names a resource twice.
 */
export function reservedMemoryProblems(config: KubeletConfiguration): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (reason: string) => problems.push([['reservedMemory'], config.reservedMemory, reason]);
  const named = new Map<number, Set<string>>();
  for (const { numaNode, limits } of config.reservedMemory) {
    const resources = named.get(numaNode) ?? new Set<string>();
    named.set(numaNode, resources);
    for (const [resource, quantity] of Object.entries(limits)) {
      if (resource !== 'memory' && !resource.startsWith('hugepages-'))
        add(
          `the limit type "${resource}" for NUMA node ${numaNode} is not supported, only [memory hugepages-<HugePageSize>] is accepted`,
        );
      const value = quantityValue(quantity);
      if (value === undefined) add(`${JSON.stringify(quantity)} for NUMA node ${numaNode} is not a quantity`);
      else if (value === 0)
        add(`reserved memory may not be zero for NUMA node ${numaNode} and resource "${resource}"`);
      if (resources.has(resource))
        add(`the reserved memory has a duplicate value for NUMA node ${numaNode} and resource "${resource}"`);
      resources.add(resource);
    }
  }
  return problems;
}

/** The quantity's value, or undefined where it does not parse (upstream's decoding refuses it). */
function quantityValue(text: string): number | undefined {
  try {
    return parseQuantity(text);
  } catch (error) {
    if (isInvalidQuantityError(error)) return undefined;
    throw error;
  }
}
