import { hash } from 'node:crypto';
import { base32 } from '@nodeagent/primitives';
import type { Protocol } from '../model/service-port';

// Top-level chains kube-proxy owns (upstream names; other components and docs rely on them).
export const KUBE_SERVICES = 'KUBE-SERVICES';
export const KUBE_EXTERNAL_SERVICES = 'KUBE-EXTERNAL-SERVICES';
export const KUBE_NODEPORTS = 'KUBE-NODEPORTS';
export const KUBE_POSTROUTING = 'KUBE-POSTROUTING';
export const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
export const KUBE_FORWARD = 'KUBE-FORWARD';
export const KUBE_PROXY_FIREWALL = 'KUBE-PROXY-FIREWALL';
export const KUBE_PROXY_CANARY = 'KUBE-PROXY-CANARY';
/** kubelet's chain for the CVE-2020-8558 localnet rule; upstream kube-proxy fills it too when it sets route_localnet. */
export const KUBE_FIREWALL = 'KUBE-FIREWALL';

// Every sync names every chain again; hashing dominates rule generation without a cache.
// Cleared wholesale when large so churn cannot grow it without bound.
const hashCache = new Map<string, string>();
const HASH_CACHE_MAX = 1 << 20;

/** First 16 base32 characters of sha256(input): the hash part of every per-service chain name. */
function hash16(input: string): string {
  let h = hashCache.get(input);
  if (h === undefined) {
    // The first 10 bytes encode to exactly the first 16 characters (5 bytes → 8 characters).
    h = base32(hash('sha256', input, 'buffer').subarray(0, 10));
    if (hashCache.size >= HASH_CACHE_MAX) hashCache.clear();
    hashCache.set(input, h);
  }
  return h;
}

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

export function serviceChainNames(servicePortKey: string, protocol: Protocol): ServiceChainNames {
  const h = hash16(servicePortKey + protocol.toLowerCase());
  return {
    cluster: `KUBE-SVC-${h}`,
    local: `KUBE-SVL-${h}`,
    external: `KUBE-EXT-${h}`,
    firewall: `KUBE-FW-${h}`,
  };
}

/** KUBE-SEP-*: one endpoint of one service port ("ip:port" as joinHostPort). */
export function endpointChainName(servicePortKey: string, protocol: Protocol, endpoint: string): string {
  return `KUBE-SEP-${hash16(servicePortKey + protocol.toLowerCase() + endpoint)}`;
}

const SERVICE_CHAIN_PREFIXES = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

/** True for per-service chains we create (and may therefore delete when stale). */
export function isServiceChainName(chain: string): boolean {
  return SERVICE_CHAIN_PREFIXES.some((p) => chain.startsWith(p));
}
