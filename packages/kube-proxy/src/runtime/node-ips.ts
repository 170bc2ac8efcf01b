import type { V1Node } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { KubeProxyError } from '../errors';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';

/**
 * The node's host IPs as upstream's GetNodeHostIPs picks them: InternalIP addresses first, then
 * ExternalIP; the first is the primary, followed by the first address of the other family, if any.
 * Empty when the Node reports no usable address.
 */
export function nodeHostIPs(node: Wire<V1Node>): string[] {
  const addresses = node.status?.addresses ?? [];
  const ordered = [
    ...addresses.filter((a) => a.type === 'InternalIP'),
    ...addresses.filter((a) => a.type === 'ExternalIP'),
  ]
    .map((a) => a.address)
    .filter((ip) => ipFamilyOf(ip) !== undefined && !ip.includes('/'));
  if (ordered.length === 0) return [];
  const primary = ordered[0] as string;
  const other = ordered.find((ip) => ipFamilyOf(ip) !== ipFamilyOf(primary));
  return other ? [primary, other] : [primary];
}

/** What detectNodeIPs decided: the primary IP family and one node IP per family. */
export interface DetectedNodeIPs {
  /** The family a single-stack proxy runs (the first node IP's, or the bind address's when set). */
  primaryFamily: IPFamily;
  /** One IP per family; a family the node has no address of gets the loopback address. */
  byFamily: Record<IPFamily, string>;
  /** True when the primary family's IP is the loopback fallback (upstream logs this). */
  primaryIsLoopback: boolean;
}

const LOOPBACK: Record<IPFamily, string> = { IPv4: '127.0.0.1', IPv6: '::1' };

/**
 * Upstream's detectNodeIPs: the Node's host IPs decide the primary family and each family's IP;
 * a specified (not 0.0.0.0 / ::) bindAddress overrides the primary. Without either, IPv4 and
 * loopback.
 */
export function detectNodeIPs(rawNodeIPs: readonly string[], bindAddress: string): DetectedNodeIPs {
  const byFamily: Record<IPFamily, string> = { ...LOOPBACK };
  let primaryFamily: IPFamily = 'IPv4';
  const [first, second] = rawNodeIPs;
  const firstFamily = first === undefined ? undefined : ipFamilyOf(first);
  if (first !== undefined && firstFamily) {
    primaryFamily = firstFamily;
    byFamily[firstFamily] = first;
    const secondFamily = second === undefined ? undefined : ipFamilyOf(second);
    if (second !== undefined && secondFamily) byFamily[secondFamily] = second;
  }
  const bindFamily = ipFamilyOf(bindAddress);
  if (bindFamily && bindAddress !== '0.0.0.0' && bindAddress !== '::') {
    primaryFamily = bindFamily;
    byFamily[bindFamily] = bindAddress;
  }
  return { primaryFamily, byFamily, primaryIsLoopback: byFamily[primaryFamily] === LOOPBACK[primaryFamily] };
}

/** Upstream's wait for its Node at start: 6 tries, 1 s apart doubling (±20 % jitter). */
export const NODE_IPS_BACKOFF_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000];

/** Options of waitForNodeIPs. */
export interface WaitForNodeIPsOptions {
  /** Reads the Node; undefined when it does not exist (yet). Errors count as a failed try. */
  getNode: () => Promise<Wire<V1Node> | undefined>;
  /** Pauses between tries; the number of tries is one more than its length. */
  backoffMs?: readonly number[];
  /** Waits `ms` milliseconds (default: a timer); tests inject one that resolves at once. */
  sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the ±20 % jitter of each pause (default Math.random). */
  random?: () => number;
  /** Told why a try failed, before the pause that follows it (not after the last try). */
  onRetry?: (reason: string) => void;
}

/**
 * Reads the Node until it reports host IPs, as upstream's getNodeIPs does; returns [] when
 * every try failed (the caller then falls back to the bind address or loopback).
 */
export async function waitForNodeIPs(o: WaitForNodeIPsOptions): Promise<string[]> {
  const backoff = o.backoffMs ?? NODE_IPS_BACKOFF_MS;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = o.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    let reason: string;
    try {
      const node = await o.getNode();
      const ips = node ? nodeHostIPs(node) : [];
      if (ips.length > 0) return ips;
      reason = node ? 'the Node reports no InternalIP or ExternalIP address' : 'the Node does not exist';
    } catch (err) {
      reason = (err as Error).message ?? String(err);
    }
    const pause = backoff[attempt];
    if (pause === undefined) return [];
    o.onRetry?.(reason);
    await sleep(pause * (1 + 0.2 * random()));
  }
}

/** Upstream's timeoutForNodePodCIDR: how long detectLocalMode NodeCIDR waits for a pod CIDR. */
export const POD_CIDR_TIMEOUT_MS = 5 * 60_000;

/** Options of waitForPodCIDRs. */
export interface WaitForPodCIDRsOptions {
  /** Reads the Node; undefined when it does not exist (yet). Errors count as a failed poll. */
  getNode: () => Promise<Wire<V1Node> | undefined>;
  /** How long to wait before PodCIDRTimeoutError (default POD_CIDR_TIMEOUT_MS, 5 minutes). */
  timeoutMs?: number;
  /** Pause between reads in ms (default 1000). */
  pollMs?: number;
  /** Current time in ms since the epoch, for the deadline (default Date.now). */
  now?: () => number;
  /** Waits `ms` milliseconds (default: a timer). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * detectLocalMode NodeCIDR needs Node.spec.podCIDRs, which an IPAM controller may assign after
 * the Node registers: reads the Node until it has one (upstream watches; a 1 s poll is enough for
 * a one-off start-up wait). Throws PodCIDRTimeoutError when none appears within the timeout.
 */
export async function waitForPodCIDRs(o: WaitForPodCIDRsOptions): Promise<string[]> {
  const timeoutMs = o.timeoutMs ?? POD_CIDR_TIMEOUT_MS;
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + timeoutMs;
  let last = 'the Node does not exist';
  for (;;) {
    try {
      const node = await o.getNode();
      const cidrs = node?.spec?.podCIDRs?.length
        ? node.spec.podCIDRs
        : node?.spec?.podCIDR
          ? [node.spec.podCIDR]
          : [];
      if (cidrs.length > 0) return cidrs;
      if (node) last = 'the Node has no spec.podCIDR yet';
    } catch (err) {
      last = (err as Error).message ?? String(err);
    }
    if (now() >= deadline) throw new PodCIDRTimeoutError(timeoutMs, last);
    await sleep(o.pollMs ?? 1000);
  }
}

/** detectLocalMode NodeCIDR gave up waiting for the Node's pod CIDR. */
export class PodCIDRTimeoutError extends KubeProxyError {
  constructor(
    readonly timeoutMs: number,
    readonly lastReason: string,
  ) {
    super(
      'POD_CIDR_TIMEOUT',
      `timeout waiting for PodCIDR allocation to configure detect-local-mode NodeCIDR after ${timeoutMs / 1000}s: ${lastReason}`,
    );
  }
}
