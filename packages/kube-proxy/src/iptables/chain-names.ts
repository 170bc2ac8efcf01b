import { hash } from 'node:crypto';
import type { Protocol } from '../model/service-port';

// Top-level chains kube-proxy owns (upstream names; other components and docs rely on them).
/**
 * nat and filter: the entry for Service traffic (cluster, external and load-balancer IPs),
 * jumped to from PREROUTING/OUTPUT (nat) and FORWARD/OUTPUT (filter).
 */
export const KUBE_SERVICES = 'KUBE-SERVICES';
/** filter: rejects or drops new connections to external Services without endpoints (from INPUT and FORWARD). */
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
/**
 * nat: NodePort traffic (KUBE-SERVICES' last rule, for the node's own addresses); filter: accepts
 * the health-check node ports.
 */
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
/** nat: masquerades packets that KUBE-MARK-MASQ marked (from POSTROUTING). */
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
/** nat: sets the masquerade bit (`iptables.masqueradeBit`, default 14) in the packet mark. */
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
/**
 * filter: accepts forwarded Service traffic (marked or conntrack-established) and drops INVALID
 * packets (unless `conntrack.tcpBeLiberal`).
 */
export const KUBE_FORWARD = 'KUBE-FORWARD';
/** filter: drops load-balancer traffic from outside `loadBalancerSourceRanges` (from INPUT, OUTPUT and FORWARD). */
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
/** mangle, nat and filter: an empty chain; when it is gone, something flushed the tables and a full sync follows. */
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';
/** kubelet's chain for the CVE-2020-8558 localnet rule; upstream kube-proxy fills it too when it sets route_localnet. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

// Every sync names every chain again; hashing dominates rule generation without a cache.
// Trimmed after each full sync (trimChainNameCaches) and cleared wholesale when large, so churn
// cannot grow it without bound. It holds an entry per
// endpoint for the life of the process (11k at 1k Services), so keys, hashes and the names
// built from them are flat strings: `a + b` and `${a}${b}` of 13 characters or more make V8
// cons strings, a 32-byte node per `+` that keeps every piece alive (the base32 loop's
// `out += c` made 4 per hash; 2.7 MiB at 1k Services, 1.1 MiB flat).
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 1 << 20;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const codes: number[] = new Array(16).fill(0);

/** First 16 base32 characters (RFC 4648) of 10 bytes, as one flat string. */
function base32of10(b: Uint8Array): string {
  for (let i = 0; i < 2; i++) {
    // 5 bytes → 8 characters: 40 bits, high to low (kept below 2^53 as a float).
    const low = ((b[5 * i + 1]! << 24) | (b[5 * i + 2]! << 16) | (b[5 * i + 3]! << 8) | b[5 * i + 4]!) >>> 0;
    let rest = b[5 * i]! * 2 ** 32 + low;
    for (let j = 7; j >= 0; j--) {
      codes[8 * i + j] = BASE32.charCodeAt(rest % 32);
      rest = Math.floor(rest / 32);
    }
  }
  return String.fromCharCode(...codes);
}

/** First 16 base32 characters of sha256(input), uncached. */
function hash16uncached(input: string): string {
  // The first 10 bytes encode to exactly the first 16 characters (5 bytes → 8 characters).
  return base32of10(hash('sha256', input, 'buffer'));
}

/** First 16 base32 characters of sha256(input): the hash part of every per-service chain name. */
function hash16(input: string): string {
  let h = hashCache.get(input);
  if (h === undefined) {
    h = hash16uncached(input);
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(input, h);
  }
  return h;
}

/**
 * KUBE-SEP names by hash input, whole: the cached string is the very one the rule cache keeps
 * in its chain lists, rather than a second copy of the hash beside a name built from it.
 */
const endpointChainCache = new Map<string, string>();

/** Per-service-port chain names; the hash input is upstream's (servicePortName + lowercase protocol). */
export interface ServiceChainNames {
  /** KUBE-SVC-*: Cluster-policy endpoints. */
  readonly cluster: string;
  /** KUBE-SVL-*: Local-policy endpoints. */
  readonly local: string;
  /** KUBE-EXT-*: external traffic entry. */
  readonly external: string;
  /** KUBE-FW-*: loadBalancerSourceRanges firewall. */
  readonly firewall: string;
}

/** The four per-service-port chain names upstream derives for this port (cached: every sync asks again). */
export function serviceChainNames(servicePortKey: string, protocol: Protocol): ServiceChainNames {
  const h = hash16([servicePortKey, protocol.toLowerCase()].join(''));
  return {
    cluster: ['KUBE-SVC-', h].join(''),
    local: ['KUBE-SVL-', h].join(''),
    external: ['KUBE-EXT-', h].join(''),
    firewall: ['KUBE-FW-', h].join(''),
  };
}

/** KUBE-SEP-*: one endpoint of one service port ("ip:port" as joinHostPort). */
export function endpointChainName(servicePortKey: string, protocol: Protocol, endpoint: string): string {
  const input = [servicePortKey, protocol.toLowerCase(), endpoint].join('');
  let name = endpointChainCache.get(input);
  if (name === undefined) {
    name = ['KUBE-SEP-', hash16uncached(input)].join('');
    if (endpointChainCache.size >= HASH_CACHE_MAX) endpointChainCache.clear();
    endpointChainCache.set(input, name);
  }
  return name;
}

/** What the name caches may hold beyond twice the live chains before a trim clears them. */
export const CHAIN_NAME_CACHE_SLACK = 4096;

/**
 * Called after a full sync, which named every live chain: a cache holding more than twice the
 * live ones (plus slack) holds mostly names of Services and endpoints long gone, so it is cleared
 * and the next syncs name only what they render. The caches then follow the live cluster, not
 * its history: with pod IPs never reused, every endpoint ever seen stayed until a million.
 */
export function trimChainNameCaches(live: { servicePorts: number; endpoints: number }): void {
  if (hashCache.size > 2 * live.servicePorts + CHAIN_NAME_CACHE_SLACK) hashCache.clear();
  if (endpointChainCache.size > 2 * live.endpoints + CHAIN_NAME_CACHE_SLACK) endpointChainCache.clear();
}

/** How many names the caches hold: service ports' hashes and endpoints' chain names. */
export function chainNameCacheSizes(): { servicePorts: number; endpoints: number } {
  return { servicePorts: hashCache.size, endpoints: endpointChainCache.size };
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** True for per-service chains we create (and may therefore delete when stale). */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
