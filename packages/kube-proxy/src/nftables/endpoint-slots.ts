import { CompactEndpoint } from '../model/compact-endpoint';
import { type EndpointInfo, sameEndpoint } from '../model/endpoint';
import { packIPv4 } from '../model/packed-ipv4';

/**
 * Endpoints in slot order per endpoint set, as last written for a Service port: the endpoint
 * records themselves (the snapshot's), compared by ip and port, rather than an "ip:port" text
 * per endpoint kept beside them (issue #54: 10 MB at 250k endpoints).
 */
export interface EndpointSlots {
  readonly cluster: readonly EndpointInfo[];
  readonly local: readonly EndpointInfo[];
}

export const NO_SLOTS: EndpointSlots = { cluster: [], local: [] };

/** Up to this many previous slots are searched in place rather than through a Map. */
const SCAN_LIMIT = 32;

/**
 * The Map key of a backend: equal for two endpoints exactly when sameEndpoint says so. An IPv4
 * one is its address bits and port in one number (the model's records keep the bits), any other
 * its "ip:port": a 50-endpoint Service's rewrite built 100 such texts only to look slots up
 * (issue #54, one endpoint change's update stage).
 */
function slotKey(ep: EndpointInfo): number | string {
  const bits = ep instanceof CompactEndpoint ? ep.ipv4Bits : packIPv4(ep.ip);
  // Unsigned bits above the 16-bit port: at most 2^48, an exact double.
  return bits === undefined ? ep.endpoint : (bits >>> 0) * 65_536 + ep.port;
}

// The two lookups are loops of their own rather than callbacks made per rewrite (a map's and a
// findIndex's arrow): V8 compiled such a closure again for each new one that grew hot.

/** Each previous slot's index by the Map key of its endpoint. */
function slotsByKey(previous: readonly EndpointInfo[]): Map<number | string, number> {
  const byKey = new Map<number | string, number>();
  for (let i = 0; i < previous.length; i++) byKey.set(slotKey(previous[i]!), i);
  return byKey;
}

/** The slot `ep` had among `previous` (compared by ip and port), or -1. */
function slotOf(previous: readonly EndpointInfo[], ep: EndpointInfo): number {
  for (let i = 0; i < previous.length; i++) if (sameEndpoint(previous[i]!, ep)) return i;
  return -1;
}

/**
 * Puts endpoints into slots 0…n-1 keeping each one in the slot it had before when that slot
 * still exists, and filling the other slots with the rest in their given order. A replaced
 * endpoint then changes one endpoint-map element, a removed one moves the last endpoint into
 * its slot, instead of shifting every slot after it. Without history the given order stands.
 */
export function assignSlots(
  endpoints: readonly EndpointInfo[],
  previous: readonly EndpointInfo[],
): readonly EndpointInfo[] {
  if (previous.length === 0) return endpoints;
  const n = endpoints.length;
  // A Service's usual handful of endpoints: a scan of the previous slots instead of a Map
  // (and a pair per endpoint) built on every rewrite.
  const before = previous.length > SCAN_LIMIT ? slotsByKey(previous) : undefined;
  const slots: (EndpointInfo | undefined)[] = new Array(n).fill(undefined);
  const rest: EndpointInfo[] = [];
  for (const ep of endpoints) {
    const i = before ? (before.get(slotKey(ep)) ?? -1) : slotOf(previous, ep);
    if (i >= 0 && i < n && slots[i] === undefined) slots[i] = ep;
    else rest.push(ep);
  }
  let next = 0;
  for (let i = 0; i < n; i++) if (slots[i] === undefined) slots[i] = rest[next++];
  return slots as EndpointInfo[];
}
