import { joinHostPort } from './ip-family';
import { packIPv4, unpackIPv4 } from './packed-ipv4';

const LOCAL = 1;
const READY = 2;
const SERVING = 4;
const TERMINATING = 8;
/** The port sits above the four condition bits (a port is at most 16 bits: a small integer still). */
const PORT_SHIFT = 4;

/** An endpoint's topology hints: zone names and node names. */
export interface EndpointHints {
  readonly zones: readonly string[];
  readonly nodes: readonly string[];
}

const NO_HINT_NAMES: readonly string[] = Object.freeze([]);

/** Shared by every endpoint without hints (most of them). */
export const NO_HINTS: EndpointHints = Object.freeze({ zones: NO_HINT_NAMES, nodes: NO_HINT_NAMES });

/**
 * Hints from an EndpointSlice endpoint's names, NO_HINTS when both lists are empty. The lists
 * are the caller's fresh arrays: they are frozen and kept, not copied.
 */
export function endpointHints(zones: string[], nodes: string[]): EndpointHints {
  if (zones.length === 0 && nodes.length === 0) return NO_HINTS;
  return Object.freeze({
    zones: zones.length ? Object.freeze(zones) : NO_HINT_NAMES,
    nodes: nodes.length ? Object.freeze(nodes) : NO_HINT_NAMES,
  });
}

/** The four conditions of an endpoint as one number (CompactEndpoint's flags). */
export function endpointFlags(
  isLocal: boolean,
  ready: boolean,
  serving: boolean,
  terminating: boolean,
): number {
  return (
    (isLocal ? LOCAL : 0) | (ready ? READY : 0) | (serving ? SERVING : 0) | (terminating ? TERMINATING : 0)
  );
}

/**
 * Where an endpoint runs (node and zone) and its hints: one object per combination, shared by
 * every endpoint with it (the endpoints of 250k on a few hundred nodes), rather than three
 * fields in each endpoint.
 */
interface EndpointPlace {
  readonly nodeName: string;
  readonly zone: string;
  readonly hints: EndpointHints;
}

/** Places without hints by node name, then zone. */
const places = new Map<string, Map<string, EndpointPlace>>();
let placeCount = 0;
/**
 * More places than this and the cache starts over (nodes come and go; endpoints keep the
 * places they were given, only later ones share anew): at most this many kept for sharing.
 */
const PLACES_MAX = 16_384;

/** The shared place of an endpoint on `nodeName` in `zone` with `hints` (its own with hints). */
export function endpointPlace(nodeName: string, zone: string, hints: EndpointHints): EndpointPlace {
  if (hints !== NO_HINTS) return Object.freeze({ nodeName, zone, hints });
  let byZone = places.get(nodeName);
  const held = byZone?.get(zone);
  if (held) return held;
  if (placeCount >= PLACES_MAX) {
    places.clear();
    placeCount = 0;
    byZone = undefined;
  }
  if (!byZone) {
    byZone = new Map();
    places.set(nodeName, byZone);
  }
  const place = Object.freeze({ nodeName, zone, hints });
  byZone.set(zone, place);
  placeCount++;
  return place;
}

/**
 * EndpointInfo (endpoint.ts; structurally, without an import back) as the model stores it, one
 * per endpoint of every Service (250k at 5,000 Services × 50, alive for the life of the
 * process): three fields instead of eleven. The port and the four conditions share one number;
 * node, zone and hints one shared place (endpointPlace); "ip:port" is not kept but built when
 * asked (the nftables rules never ask; sorting and comparing use ip and port, see endpoint.ts).
 * On 64-bit V8 48 bytes instead of 112 with the "ip:port" string (issue #54: 16 MB at 250k
 * endpoints). Frozen, as EndpointInfo promises.
 */
export class CompactEndpoint {
  private readonly bits: number;
  /** The address: a canonical IPv4 one as its 32 bits (packIPv4), any other as given. */
  private readonly address: number | string;

  constructor(
    /** The address, or its packIPv4 bits when the caller packed it already. */
    address: string | number,
    port: number,
    flags: number,
    private readonly place: EndpointPlace,
  ) {
    this.address = typeof address === 'number' ? address : (packIPv4(address) ?? address);
    this.bits = port * (1 << PORT_SHIFT) + flags;
    Object.freeze(this);
  }

  /** The address as the slice gave it (an IPv4 one rebuilt from its bits: a new string each time). */
  get ip(): string {
    const a = this.address;
    return typeof a === 'string' ? a : unpackIPv4(a);
  }

  /** Whether `other` has the same address (equal texts are equal bits: packIPv4 is one-to-one). */
  sameAddress(other: CompactEndpoint): boolean {
    return this.address === other.address;
  }

  /** The address's packIPv4 bits, or undefined when it is kept as text (compareEndpoints). */
  get ipv4Bits(): number | undefined {
    const a = this.address;
    return typeof a === 'number' ? a : undefined;
  }

  get port(): number {
    return Math.floor(this.bits / (1 << PORT_SHIFT));
  }
  /** "ip:port" ("[ip]:port" for IPv6), a new string each time. */
  get endpoint(): string {
    return joinHostPort(this.ip, this.port);
  }
  get isLocal(): boolean {
    return (this.bits & LOCAL) !== 0;
  }
  get ready(): boolean {
    return (this.bits & READY) !== 0;
  }
  get serving(): boolean {
    return (this.bits & SERVING) !== 0;
  }
  get terminating(): boolean {
    return (this.bits & TERMINATING) !== 0;
  }
  get nodeName(): string {
    return this.place.nodeName;
  }
  get zone(): string {
    return this.place.zone;
  }
  get zoneHints(): readonly string[] {
    return this.place.hints.zones;
  }
  get nodeHints(): readonly string[] {
    return this.place.hints.nodes;
  }
}
