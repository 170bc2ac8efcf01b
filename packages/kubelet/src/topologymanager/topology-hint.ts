import type { NumaMask } from './numa-mask';

/**
 * Upstream's TopologyHint: the NUMA nodes a resource could be given from, and whether that set
 * is among the narrowest possible. A null affinity means "any node" (no preference).
 */
export interface TopologyHint {
  /** The NUMA nodes, or null for no preference (upstream's nil NUMANodeAffinity). */
  affinity: NumaMask | null;
  /** Whether the affinity is one of the narrowest that could satisfy the request. */
  preferred: boolean;
}

/**
 * One hint provider's hints, by resource name (upstream's map[string][]TopologyHint). `undefined`
 * for a resource (or the whole map) means no preference; an empty list means no hint can be met.
 */
export type ResourceHints = Readonly<Record<string, readonly TopologyHint[] | undefined>> | undefined;
