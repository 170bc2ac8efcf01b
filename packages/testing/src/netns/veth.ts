import { assertIfName, uniqueIfName } from './names';
import type { Netns } from './netns';
import { runCommand } from './run-command';

/** One end of a veth pair to create: its namespace, name and addresses. */
export interface VethEnd {
  netns: Netns;
  /** Interface name inside that namespace (default: a unique short name). */
  ifName?: string;
  /** Addresses in CIDR form, e.g. "10.250.0.1/24" or "fd00::1/64". */
  addresses?: readonly string[];
}

/** A created veth pair: each end's namespace and interface name. */
export interface VethPair {
  a: { netns: Netns; ifName: string };
  b: { netns: Netns; ifName: string };
}

/**
 * Create a veth pair with each end directly inside its namespace (never passing through the
 * host namespace), assign addresses and bring both ends up.
 */
export async function createVethPair(a: VethEnd, b: VethEnd): Promise<VethPair> {
  const aName = a.ifName ?? uniqueIfName('a');
  const bName = b.ifName ?? uniqueIfName('b');
  assertIfName('a.ifName', aName);
  assertIfName('b.ifName', bName);
  await runCommand('ip', [
    'link',
    'add',
    'name',
    aName,
    'netns',
    a.netns.name,
    'type',
    'veth',
    'peer',
    'name',
    bName,
    'netns',
    b.netns.name,
  ]);
  for (const [end, ifName] of [
    [a, aName],
    [b, bName],
  ] as const) {
    for (const address of end.addresses ?? []) {
      // nodad: IPv6 duplicate-address detection would leave the address unusable for ~1 s.
      const extra = address.includes(':') ? ['nodad'] : [];
      await end.netns.exec('ip', ['addr', 'add', address, 'dev', ifName, ...extra]);
    }
    await end.netns.exec('ip', ['link', 'set', ifName, 'up']);
  }
  return { a: { netns: a.netns, ifName: aName }, b: { netns: b.netns, ifName: bName } };
}

/** Add a route inside a namespace, e.g. a default route via the peer's address. */
export async function addRoute(netns: Netns, destination: string, via: string): Promise<void> {
  await netns.exec('ip', ['route', 'add', destination, 'via', via]);
}

/** Turn on IPv4 forwarding inside a namespace (a router or a kube-proxy node between veths). */
export async function enableForwarding(netns: Netns): Promise<void> {
  await netns.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}
