import type { EndpointInfo } from '../model/endpoint';

/** Endpoints ("ip:port") in slot order per endpoint set, as last written for a Service port. */
export interface EndpointSlots {
  readonly cluster: readonly string[];
  readonly local: readonly string[];
}

export const NO_SLOTS: EndpointSlots = { cluster: [], local: [] };

/**
 * Puts endpoints into slots 0…n-1 keeping each one in the slot it had before when that slot
 * still exists, and filling the other slots with the rest in their given order. A replaced
 * endpoint then changes one endpoint-map element, a removed one moves the last endpoint into
 * its slot, instead of shifting every slot after it. Without history the given order stands.
 */
export function assignSlots(
  endpoints: readonly EndpointInfo[],
  previous: readonly string[],
): readonly EndpointInfo[] {
  if (previous.length === 0) return endpoints;
  const n = endpoints.length;
  const before = new Map(previous.map((e, i) => [e, i]));
  const slots: (EndpointInfo | undefined)[] = new Array(n).fill(undefined);
  const rest: EndpointInfo[] = [];
  for (const ep of endpoints) {
    const i = before.get(ep.endpoint);
    if (i !== undefined && i < n && slots[i] === undefined) slots[i] = ep;
    else rest.push(ep);
  }
  let next = 0;
  for (let i = 0; i < n; i++) if (slots[i] === undefined) slots[i] = rest[next++];
  return slots as EndpointInfo[];
}
