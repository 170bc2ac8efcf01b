import { addRoute, createVethPair, enableForwarding, type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IptablesClient, NftablesClient, NftTransaction, netnsRunner } from '../../src/index';
import {
  endpointProbability,
  type Rule,
  servicePortChainName,
  servicePortEndpointChainName,
} from '../../src/iptables/index';

// Packets really follow the rules: a client namespace, a "node" namespace that routes and
// holds the rules, and two backend namespaces, joined by veths. A virtual IP (assigned
// nowhere) is DNATed by the node to the backends; each backend answers with its own name.
// All addresses live only inside these namespaces.

const VIP = '10.96.0.10';
const CONNECTIONS = 30;

describe('DNAT spreading over backends (real kernel, real packets)', () => {
  const scope = new NetnsScope('nf-dnat');
  let client: Netns;
  let node: Netns;
  const backends: { netns: Netns; address: string; name: string }[] = [];

  beforeAll(async () => {
    client = await scope.create();
    node = await scope.create();
    await createVethPair(
      { netns: client, ifName: 'eth0', addresses: ['10.250.1.2/24'] },
      { netns: node, ifName: 'cl0', addresses: ['10.250.1.1/24'] },
    );
    await addRoute(client, 'default', '10.250.1.1');
    for (const [i, name] of ['backend-a', 'backend-b'].entries()) {
      const netns = await scope.create();
      const subnet = `10.250.${i + 2}`;
      await createVethPair(
        { netns, ifName: 'eth0', addresses: [`${subnet}.2/24`] },
        { netns: node, ifName: `be${i}`, addresses: [`${subnet}.1/24`] },
      );
      await addRoute(netns, 'default', `${subnet}.1`);
      netns.spawn('busybox', ['nc', '-ll', '-p', '8080', '-e', 'echo', name]);
      backends.push({ netns, address: `${subnet}.2`, name });
    }
    await enableForwarding(node);
    for (const backend of backends) await waitForListener(backend.netns, 8080);
  }, 30_000);

  afterAll(() => scope.cleanup());

  async function countReplies(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (let i = 0; i < CONNECTIONS; i++) {
      const reply = await client.exec('busybox', ['nc', '-w', '2', VIP, '80'], { allowFailure: true });
      const name = reply.stdout.trim() || `failed(${reply.exitCode})`;
      counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  }

  it('iptables: statistic-spread DNAT reaches both backends', async () => {
    const iptables = new IptablesClient({ runner: netnsRunner(node.path), backend: 'nft' });
    const svcName = 'ns1/svc1:p80';
    const svc = servicePortChainName(svcName, 'tcp');
    const seps = backends.map((b) => servicePortEndpointChainName(svcName, 'tcp', `${b.address}:8080`));
    const spread: Rule[] = seps.map((sep, i) => ({
      matches:
        i < seps.length - 1
          ? [{ kind: 'statistic', mode: 'random', probability: endpointProbability(i, seps.length) }]
          : [],
      target: { kind: 'jump', chain: sep },
    }));
    await iptables.restore([
      {
        name: 'nat',
        chains: [
          {
            name: 'PREROUTING',
            rules: [
              {
                matches: [
                  { kind: 'protocol', protocol: 'tcp' },
                  { kind: 'destination', address: `${VIP}/32` },
                  { kind: 'port', protocol: 'tcp', destinationPort: 80 },
                ],
                target: { kind: 'jump', chain: svc },
              },
            ],
          },
          { name: svc, rules: spread },
          ...seps.map((sep, i) => ({
            name: sep,
            rules: [
              {
                matches: [{ kind: 'protocol' as const, protocol: 'tcp' as const }],
                target: { kind: 'dnat' as const, toDestination: `${backends[i]!.address}:8080` },
              },
            ],
          })),
        ],
      },
    ]);
    const counts = await countReplies();
    expect(Object.keys(counts).sort()).toEqual(['backend-a', 'backend-b']);
    expect(counts['backend-a']! + counts['backend-b']!).toBe(CONNECTIONS);
    // Clean the nat table for the next case.
    await node.exec('iptables-nft-restore', [], { input: '*nat\nCOMMIT\n' });
  }, 60_000);

  it('nftables: a numgen map DNAT reaches both backends, and a one-element change moves traffic', async () => {
    const nft = new NftablesClient({ family: 'ip', table: 'kube-proxy', runner: netnsRunner(node.path) });
    const tx = new NftTransaction()
      .add({ kind: 'table' })
      .add({ kind: 'chain', name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat' })
      .add({
        kind: 'map',
        name: 'service-backends',
        // typeof: the key includes numgen, which has no named type.
        typeof: true,
        type: 'ip daddr . meta l4proto . th dport . numgen random mod 2',
        valueType: 'ip daddr . th dport',
      });
    tx.add({
      kind: 'rule',
      chain: 'nat-prerouting',
      rule: 'dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @service-backends',
    });
    backends.forEach((b, i) => {
      tx.add({
        kind: 'element',
        container: 'service-backends',
        key: [VIP, 'tcp', '80', String(i)],
        value: [b.address, '8080'],
      });
    });
    await nft.run(tx);
    const counts = await countReplies();
    expect(Object.keys(counts).sort()).toEqual(['backend-a', 'backend-b']);

    // Repoint bucket 0 to backend-b: one element, and all traffic goes to backend-b.
    await nft.run(
      new NftTransaction()
        .delete({ kind: 'element', container: 'service-backends', key: [VIP, 'tcp', '80', '0'] })
        .add({
          kind: 'element',
          container: 'service-backends',
          key: [VIP, 'tcp', '80', '0'],
          value: [backends[1]!.address, '8080'],
        }),
    );
    expect(await countReplies()).toEqual({ 'backend-b': CONNECTIONS });
  }, 60_000);
});

async function waitForListener(netns: Netns, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { stdout } = await netns.exec('ss', ['-ltn', `sport = :${port}`]);
    if (stdout.includes(`:${port}`)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port} in ${netns.name}`);
}
