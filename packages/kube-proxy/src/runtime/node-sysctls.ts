import { readFile, writeFile } from 'node:fs/promises';
import { parseDuration } from '@nodeagent/primitives';
import { effectiveProxyMode, type KubeProxyConfiguration } from '../config/kube-proxy-configuration';
import { KubeProxyError } from '../errors';
import { cidrContains } from '../model/cidr';
import type { SysctlLayer } from './sysctl-layer';

// The kernel settings kube-proxy owns on a node, outside its rules: the conntrack table size and
// timeouts (every mode) and route_localnet (iptables mode, for NodePorts on 127.0.0.1). Upstream
// applies them at start-up and with --init-only; so do we.

export const CONNTRACK_MAX = 'net.netfilter.nf_conntrack_max';
export const CONNTRACK_TCP_ESTABLISHED = 'net.netfilter.nf_conntrack_tcp_timeout_established';
export const CONNTRACK_TCP_CLOSE_WAIT = 'net.netfilter.nf_conntrack_tcp_timeout_close_wait';
export const CONNTRACK_TCP_BE_LIBERAL = 'net.netfilter.nf_conntrack_tcp_be_liberal';
export const CONNTRACK_UDP = 'net.netfilter.nf_conntrack_udp_timeout';
export const CONNTRACK_UDP_STREAM = 'net.netfilter.nf_conntrack_udp_timeout_stream';
export const ROUTE_LOCALNET = 'net.ipv4.conf.all.route_localnet';
/** Module parameter, global to the machine: writable only from the initial network namespace. */
export const CONNTRACK_HASHSIZE_PATH = '/sys/module/nf_conntrack/parameters/hashsize';

/** A kernel setting kube-proxy needs and could not make. */
export class NodeSysctlError extends KubeProxyError {
  constructor(
    readonly key: string,
    readonly value: string,
    cause: unknown,
  ) {
    super(
      'NODE_SYSCTL',
      `cannot set ${key}=${value}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/**
 * conntrack.maxPerCore × CPUs, but at least conntrack.min; 0 (leave the kernel's limit alone)
 * when maxPerCore is 0 or unset, as upstream.
 */
export function conntrackMax(ct: KubeProxyConfiguration['conntrack'], cpus: number): number {
  if (!ct.maxPerCore || ct.maxPerCore <= 0) return 0;
  return Math.max(ct.maxPerCore * cpus, ct.min ?? 0);
}

/** Whether NodePorts answer on 127.0.0.1, which needs route_localnet (iptables mode, IPv4). */
export function needsRouteLocalnet(config: KubeProxyConfiguration): boolean {
  if (effectiveProxyMode(config) !== 'iptables' || config.iptables.localhostNodePorts === false) return false;
  const addrs = config.nodePortAddresses ?? [];
  // No nodePortAddresses means every local address, loopback included.
  return addrs.length === 0 || addrs.some((a) => a !== 'primary' && cidrContains(a, '127.0.0.1'));
}

/** The sysctls (dotted keys, decimal values) this configuration asks for, in upstream's order. */
export function planNodeSysctls(config: KubeProxyConfiguration, cpus: number): [string, string][] {
  const ct = config.conntrack;
  const out: [string, string][] = [];
  const max = conntrackMax(ct, cpus);
  if (max > 0) out.push([CONNTRACK_MAX, String(max)]);
  const seconds = (field: string, d: string | null | undefined): number =>
    d ? Math.floor(parseDuration(d, field) / 1000) : 0;
  const established = seconds('conntrack.tcpEstablishedTimeout', ct.tcpEstablishedTimeout);
  if (established > 0) out.push([CONNTRACK_TCP_ESTABLISHED, String(established)]);
  const closeWait = seconds('conntrack.tcpCloseWaitTimeout', ct.tcpCloseWaitTimeout);
  if (closeWait > 0) out.push([CONNTRACK_TCP_CLOSE_WAIT, String(closeWait)]);
  if (ct.tcpBeLiberal) out.push([CONNTRACK_TCP_BE_LIBERAL, '1']);
  const udp = seconds('conntrack.udpTimeout', ct.udpTimeout);
  if (udp > 0) out.push([CONNTRACK_UDP, String(udp)]);
  const udpStream = seconds('conntrack.udpStreamTimeout', ct.udpStreamTimeout);
  if (udpStream > 0) out.push([CONNTRACK_UDP_STREAM, String(udpStream)]);
  if (needsRouteLocalnet(config)) out.push([ROUTE_LOCALNET, '1']);
  return out;
}

/** Reads and writes the conntrack hash table size (a file, not a sysctl). */
export interface HashsizeFile {
  /** The current number of hash buckets. */
  read(): Promise<number>;
  /** Sets the number of hash buckets (needs write access to the module parameter). */
  write(value: number): Promise<void>;
}

/** What applyNodeSysctls did. */
export interface ApplyNodeSysctlsResult {
  /** Keys written because their value differed. */
  changed: string[];
  /** Settings that could not be made but do not stop the proxy, with why. */
  warnings: string[];
}

/**
 * Writes each planned sysctl whose current value differs, one at a time so a failure names its
 * key. nf_conntrack_max is read-only outside the initial network namespace (a proxy in a pod
 * network namespace or our tests): that is a warning, as upstream treats a read-only /sys, and the
 * hash table is only resized after the limit was set. Any other failure is a NodeSysctlError.
 */
export async function applyNodeSysctls(
  plan: readonly (readonly [string, string])[],
  sysctl: SysctlLayer,
  hashsize?: HashsizeFile,
): Promise<ApplyNodeSysctlsResult> {
  const current = await sysctl.get(plan.map(([k]) => k));
  const changed: string[] = [];
  const warnings: string[] = [];
  for (const [key, value] of plan) {
    if (current.get(key) === value) continue;
    try {
      await sysctl.set([[key, value]]);
      changed.push(key);
    } catch (err) {
      if (key !== CONNTRACK_MAX) throw new NodeSysctlError(key, value, err);
      warnings.push(`${key}=${value} not set (read-only here, e.g. not the initial network namespace)`);
      continue;
    }
    if (key === CONNTRACK_MAX && hashsize) {
      // Upstream keeps the hash table at least a quarter of the limit so lookups stay short.
      const want = Math.floor(Number(value) / 4);
      try {
        if ((await hashsize.read()) < want) await hashsize.write(want);
      } catch (err) {
        warnings.push(
          `conntrack hashsize not raised to ${want}: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  }
  return { changed, warnings };
}

/** The conntrack hashsize module parameter as a file. */
export function hashsizeFile(path: string = CONNTRACK_HASHSIZE_PATH): HashsizeFile {
  return {
    read: async () => Number((await readFile(path, 'utf8')).trim()),
    write: (value) => writeFile(path, `${value}\n`),
  };
}
