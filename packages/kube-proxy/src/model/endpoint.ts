import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import {
  CompactEndpoint,
  type EndpointHints,
  endpointFlags,
  endpointHints,
  endpointPlace,
  NO_HINTS,
} from './compact-endpoint';
import { compareStrings } from './compare-strings';
import { type IPFamily, ipFamilyOf } from './ip-family';
import { packIPv4 } from './packed-ipv4';
import { servicePortKey } from './service-port';

/** The EndpointSlice label naming its Service; slices without it are ignored. */
export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
/**
 * The EndpointSlice annotation with the time (RFC 3339) of the change that caused the slice's
 * update: the start of the network-programming-latency metric.
 */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

/** One backend of one Service port, from an EndpointSlice. Immutable. */
export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** "ip:port" ("[ip]:port" for IPv6), upstream's Endpoint.String(). */
  readonly endpoint: string;
  /** On this node (endpoint.nodeName equals our node name). */
  readonly isLocal: boolean;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly zoneHints: readonly string[];
  readonly nodeHints: readonly string[];
  readonly nodeName: string;
  readonly zone: string;
}

/** An EndpointSlice endpoint's hints (NO_HINTS for most). */
function hintsOf(hints: NonNullable<Wire<V1EndpointSlice>['endpoints']>[number]['hints']): EndpointHints {
  if (!hints?.forZones?.length && !hints?.forNodes?.length) return NO_HINTS;
  return endpointHints(
    (hints.forZones ?? []).map((z) => z.name),
    (hints.forNodes ?? []).map((n) => n.name),
  );
}

/** Owning "ns/name" of a slice, or undefined for slices not managed for a Service. */
export function serviceOfSlice(slice: Wire<V1EndpointSlice>): string | undefined {
  const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  if (!svc) return undefined;
  return `${slice.metadata?.namespace ?? 'default'}/${svc}`;
}

/**
 * Endpoints per service port key from one EndpointSlice, for one family.
 * Conditions follow the API's nil rules: ready nil → ready, serving nil → same as ready,
 * terminating nil → false.
 */
export function endpointsFromSlice(
  slice: Wire<V1EndpointSlice>,
  family: IPFamily,
  nodeName: string,
): Map<string, EndpointInfo[]> {
  const out = new Map<string, EndpointInfo[]>();
  const svc = slice.metadata?.labels?.[LABEL_SERVICE_NAME];
  if (!svc) return out;
  if (slice.addressType !== family) return out;
  const namespace = slice.metadata?.namespace ?? 'default';
  for (const p of slice.ports ?? []) {
    if (p.port === undefined || p.port === null) continue;
    const key = servicePortKey(namespace, svc, p.name ?? '');
    const list: EndpointInfo[] = out.get(key) ?? [];
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      // A canonical dotted quad packs, and is IPv4: Node's isIP (a regular expression) only
      // for the rest (250k endpoints at start-up).
      const bits = packIPv4(ip);
      if (bits === undefined ? ipFamilyOf(ip) !== family : family !== 'IPv4') continue;
      const ready = ep.conditions?.ready ?? true;
      const serving = ep.conditions?.serving ?? ready;
      const terminating = ep.conditions?.terminating ?? false;
      const isLocal = nodeName !== '' && ep.nodeName === nodeName;
      list.push(
        new CompactEndpoint(
          bits ?? ip,
          p.port,
          endpointFlags(isLocal, ready, serving, terminating),
          endpointPlace(ep.nodeName ?? '', ep.zone ?? '', hintsOf(ep.hints)),
        ),
      );
    }
    out.set(key, list);
  }
  return out;
}

/**
 * Each octet's place (0-255) among the 256 octets' texts, each followed by `end`: '.' inside an
 * address, ':' after its last octet. Two different octets order as these texts do, since the
 * character after the shorter of two texts where one is a prefix of the other is `end`.
 */
function octetTextRanks(end: string): Uint8Array {
  const octets = Array.from({ length: 256 }, (_, o) => o);
  octets.sort((x, y) => compareStrings(`${x}${end}`, `${y}${end}`));
  const ranks = new Uint8Array(256);
  octets.forEach((octet, rank) => {
    ranks[octet] = rank;
  });
  return ranks;
}

const INNER_OCTET_RANKS = octetTextRanks('.');
const LAST_OCTET_RANKS = octetTextRanks(':');

/**
 * Orders endpoints as compareStrings orders their "ip:port" texts (joinHostPort), without
 * building them: sorting a slice's endpoints built two strings per comparison (a 250k-endpoint
 * start sorts ~1.5M pairs). Where one address is a prefix of the other, the shorter one's text
 * goes on with ':' (IPv4) or ']' (IPv6, after '['), a character no address of that family holds.
 */
export function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  // Records with IPv4 addresses as bits: the first octet that differs decides by its text's
  // rank (no text built; octets of unequal digit counts built two strings per comparison).
  const bitsA = a instanceof CompactEndpoint ? a.ipv4Bits : undefined;
  const bitsB = bitsA !== undefined && b instanceof CompactEndpoint ? b.ipv4Bits : undefined;
  if (bitsA !== undefined && bitsB !== undefined) {
    for (let shift = 24; shift >= 0; shift -= 8) {
      const x = (bitsA >>> shift) & 255;
      const y = (bitsB >>> shift) & 255;
      if (x === y) continue;
      const ranks = shift > 0 ? INNER_OCTET_RANKS : LAST_OCTET_RANKS;
      return ranks[x]! < ranks[y]! ? -1 : 1;
    }
    return compareStrings(String(a.port), String(b.port));
  }
  const ipA = a.ip;
  const ipB = b.ip;
  if (ipA === ipB) return compareStrings(String(a.port), String(b.port));
  const v6 = ipA.includes(':');
  // '[' sorts after every digit: any IPv6 text after any IPv4 one (a list holds one family).
  if (v6 !== ipB.includes(':')) return v6 ? 1 : -1;
  // The character after the address in joinHostPort's text: ']' for IPv6, ':' for IPv4.
  return compareTexts(ipA, ipB, v6 ? 0x5d : 0x3a);
}

/** Orders two different texts that each go on with the character `end`, as the longer texts would order. */
function compareTexts(x: string, y: string, end: number): number {
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = x.charCodeAt(i) - y.charCodeAt(i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  const afterX = x.length > n ? x.charCodeAt(n) : end;
  const afterY = y.length > n ? y.charCodeAt(n) : end;
  return afterX < afterY ? -1 : 1;
}

/** Whether two endpoints are one "ip:port" (the same backend). */
export function sameEndpoint(a: EndpointInfo, b: EndpointInfo): boolean {
  if (a.port !== b.port) return false;
  // Records compare their address bits (or kept texts) without building the text.
  if (a instanceof CompactEndpoint && b instanceof CompactEndpoint) return a.sameAddress(b);
  return a.ip === b.ip;
}

const byEndpoint = compareEndpoints;

/**
 * One slice's endpoints per service port key as endpointsFromSlices gives them for that slice
 * alone: each list sorted by endpoint with an address listed twice kept once, ports without
 * endpoints absent. What the change tracker keeps of a slice, so the slice's own endpoint
 * objects are not held once converted.
 */
export type SliceEndpoints = ReadonlyMap<string, readonly EndpointInfo[]>;

/** One slice's endpoints (see SliceEndpoints). */
export function sliceEndpoints(
  slice: Wire<V1EndpointSlice>,
  family: IPFamily,
  nodeName: string,
): Map<string, readonly EndpointInfo[]> {
  return sortedUnique(endpointsFromSlice(slice, family, nodeName));
}

/**
 * Merges several slices of one Service into endpoints per port key. A backend listed in two
 * slices (during slice churn) appears once; slices are visited in name order for determinism.
 */
export function endpointsFromSlices(
  slices: Iterable<Wire<V1EndpointSlice>>,
  family: IPFamily,
  nodeName: string,
): Map<string, readonly EndpointInfo[]> {
  const sorted = [...slices];
  // Most Services have one slice (up to 100 endpoints): its lists are the result once sorted,
  // without a merge map per port and per address (at 44k Services, four maps per Service).
  if (sorted.length === 1) return sliceEndpoints(sorted[0]!, family, nodeName);
  sorted.sort((a, b) => compareStrings(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  return mergeLists(sorted.map((s) => sliceEndpoints(s, family, nodeName)));
}

/**
 * Several slices' endpoints (sliceEndpoints, in slice-name order) merged as endpointsFromSlices
 * merges slices: an endpoint in two slices is the first slice's. One slice's map is returned as
 * it is. Lists already without duplicates merge as the slices themselves would: what
 * sortedUnique dropped was an address's later copy in the same slice, which the merge skips too.
 */
export function mergeSliceEndpoints(perSlice: readonly SliceEndpoints[]): SliceEndpoints {
  return perSlice.length === 1 ? perSlice[0]! : mergeLists(perSlice);
}

function mergeLists(perSlice: readonly SliceEndpoints[]): Map<string, readonly EndpointInfo[]> {
  const merged = new Map<string, Map<string, EndpointInfo>>();
  for (const lists of perSlice) {
    for (const [key, eps] of lists) {
      let byAddr = merged.get(key);
      if (!byAddr) {
        byAddr = new Map();
        merged.set(key, byAddr);
      }
      for (const ep of eps) if (!byAddr.has(ep.endpoint)) byAddr.set(ep.endpoint, ep);
    }
  }
  const out = new Map<string, readonly EndpointInfo[]>();
  for (const [key, byAddr] of merged) {
    if (byAddr.size === 0) continue;
    out.set(key, Object.freeze([...byAddr.values()].sort(byEndpoint)));
  }
  return out;
}

/**
 * One slice's lists as endpointsFromSlices gives them, in place: sorted by endpoint, an address
 * listed twice kept once (the first: the sort is stable), ports without endpoints left out.
 */
function sortedUnique(lists: Map<string, EndpointInfo[]>): Map<string, readonly EndpointInfo[]> {
  for (const [key, list] of lists) {
    if (list.length === 0) {
      lists.delete(key);
      continue;
    }
    if (list.length > 1) {
      list.sort(byEndpoint);
      let kept = 1;
      for (let i = 1; i < list.length; i++)
        if (!sameEndpoint(list[i]!, list[kept - 1]!)) list[kept++] = list[i]!;
      list.length = kept;
    }
    Object.freeze(list);
  }
  return lists;
}

/** Milliseconds since epoch of the slice's last-change-trigger-time annotation, if present and valid. */
export function lastChangeTriggerTime(slice: Wire<V1EndpointSlice>): number | undefined {
  const raw = slice.metadata?.annotations?.[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
  if (!raw) return undefined;
  const t = Date.parse(raw);
  return Number.isNaN(t) ? undefined : t;
}
