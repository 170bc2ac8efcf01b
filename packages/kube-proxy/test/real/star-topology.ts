/**
 * The IPVS micro-VM scenarios' namespaces: a node joined by a veth pair to a client
 * (10.250.1.0/24, node .1, client .2) and to each backend i (10.250.<11+i>.0/24, node .1, backend
 * .2), client and backends routing through the node; with `ipv6`, fd00:250:<subnet>::/64 beside.
 * Made with one `ip -batch` per namespace instead of one `ip` per address, link and route: under
 * TCG each process start costs ~0.3 s, and a dual-stack star is over thirty of them.
 */
import { runChecked } from '@nodeagent/primitives';
import { type Netns, openNetns, uniqueNetnsName } from '@nodeagent/testing';

export interface StarOptions {
  /** Word for the generated namespace names. */
  purpose: string;
  /** How many backends (default 2). */
  backends?: number;
  /** Also IPv6 addresses and default routes. */
  ipv6?: boolean;
  /** An existing namespace to be the node (the scenario's own); otherwise one is made. */
  node?: Netns;
}

export interface Backend {
  netns: Netns;
  ip: string;
  ip6: string;
}

export interface Star {
  node: Netns;
  client: Netns;
  backends: Backend[];
  /** Kills what was spawned in the namespaces made here and deletes them (not a given node). */
  delete(): Promise<void>;
}

/** The node's addresses for a subnet number, and its peer's. */
function subnet(n: number) {
  return {
    node: `10.250.${n}.1`,
    peer: `10.250.${n}.2`,
    node6: `fd00:250:${n}::1`,
    peer6: `fd00:250:${n}::2`,
  };
}

/** Runs `ip -batch` with these lines inside `netns` (one process instead of one per line). */
async function ipBatch(netns: Netns, lines: string[]): Promise<void> {
  await netns.exec('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n` });
}

/** The lines that set up one end of a veth pair: addresses, link up, and a route if it is a leaf. */
function endLines(dev: string, ip: string, ip6: string | undefined, via?: { ip: string; ip6: string }) {
  const lines = [`addr add ${ip}/24 dev ${dev}`];
  // nodad: IPv6 duplicate-address detection would leave the address unusable for ~1 s.
  if (ip6) lines.push(`addr add ${ip6}/64 dev ${dev} nodad`);
  lines.push(`link set ${dev} up`);
  if (via) {
    lines.push(`route add default via ${via.ip}`);
    if (ip6) lines.push(`route add ::/0 via ${via.ip6}`);
  }
  return lines;
}

export async function createStarTopology(options: StarOptions): Promise<Star> {
  const count = options.backends ?? 2;
  const made = [
    ...(options.node ? [] : ['node']),
    'client',
    ...Array.from({ length: count }, (_, i) => `b${i}`),
  ];
  const names = new Map(made.map((role) => [role, uniqueNetnsName(options.purpose)]));
  const node = options.node ?? openNetns(names.get('node')!);
  const handles = new Map([...names].map(([role, name]) => [role, openNetns(name)]));
  const star: Star = {
    node,
    client: handles.get('client')!,
    backends: [],
    // Deleting a namespace that was never made is no error, so a half-made star goes too.
    delete: async () => {
      await Promise.all([...handles.values()].map((n) => n.delete()));
    },
  };
  try {
    const peers = [{ role: 'client', dev: 'to-client', n: 1 }];
    for (let i = 0; i < count; i++) peers.push({ role: `b${i}`, dev: `to-b${i}`, n: 11 + i });
    // Each veth pair is made with its ends in place, never passing through this namespace.
    const rootLines = made.map((role) => `netns add ${names.get(role)}`);
    for (const p of peers)
      rootLines.push(
        `link add name ${p.dev} netns ${node.name} type veth peer name eth0 netns ${names.get(p.role)}`,
      );
    await runChecked(['ip', '-batch', '-'], { input: `${rootLines.join('\n')}\n` });

    const v6 = options.ipv6 === true;
    const nodeLines = options.node ? [] : ['link set lo up'];
    for (const p of peers) {
      const s = subnet(p.n);
      nodeLines.push(...endLines(p.dev, s.node, v6 ? s.node6 : undefined));
    }
    await ipBatch(node, nodeLines);
    for (const p of peers) {
      const s = subnet(p.n);
      const via = { ip: s.node, ip6: s.node6 };
      await ipBatch(handles.get(p.role)!, [
        'link set lo up',
        ...endLines('eth0', s.peer, v6 ? s.peer6 : undefined, via),
      ]);
      if (p.role !== 'client') star.backends.push({ netns: handles.get(p.role)!, ip: s.peer, ip6: s.peer6 });
    }
    return star;
  } catch (err) {
    await star.delete().catch(() => {});
    throw err;
  }
}
