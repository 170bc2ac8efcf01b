import type { ProtoReader } from './reader';

/**
 * Objects a decode's caller already holds, by namespace, name and resourceVersion: the store
 * during a watch-list stream's initial events, which bring back mostly what it holds (after an
 * API server restart, every object). An object's metadata comes first on the wire (Go writes
 * fields in number order), so a decoder that finds a held object at the same resourceVersion
 * hands that one back and skips the rest of the message, instead of building a copy that would
 * be dropped at once: a relist of 250k endpoints then builds only what changed.
 */
export interface HeldObjects {
  /** The held object `namespace/name` (`name` when cluster-scoped) when held at `resourceVersion`. */
  at(namespace: string, name: string, resourceVersion: string): object | undefined;
}

/**
 * The held object for the metadata `m` just read from a message ending at `end`, if `held` has it
 * at `m`'s resourceVersion; the reader then skips the rest of the message.
 */
export function heldFor(
  held: HeldObjects | undefined,
  m: Record<string, unknown>,
  r: ProtoReader,
  end: number,
): Record<string, unknown> | undefined {
  const rv = m.resourceVersion as string | undefined;
  if (!held || rv === undefined) return undefined;
  const kept = held.at((m.namespace as string | undefined) ?? '', (m.name as string | undefined) ?? '', rv);
  if (kept) r.pos = end;
  return kept as Record<string, unknown> | undefined;
}
