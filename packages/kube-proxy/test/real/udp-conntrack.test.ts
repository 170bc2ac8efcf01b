import { ConntrackNetlink } from '@nodeagent/netfilter';
import { NetnsChannel } from '@nodeagent/netfilter/nftables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netlinkConntrack } from '../../src/index';
import { execIptables, IptablesProxier } from '../../src/iptables/index';
import { execNftables, NftablesProxier, nftLocalDetector } from '../../src/nftables/index';
import { service, slice } from '../fixtures';
import { type ProxyCluster, startProxyCluster, stopProxyCluster, until } from './cluster-fixtures';
import { createPacketTopology, type PacketTopology } from './packet-topology';
import { udpClient, udpServer } from './udp-scripts';

const UDP_SERVER = udpServer('udp4');
// One datagram from a fixed source port: the same conntrack entry each time.
const UDP_CLIENT = udpClient('udp4', { sourcePort: 40053, timeoutMs: 1500 });

// UDP has no connection close: without conntrack cleanup, a client reusing its source port
// keeps reaching a removed backend. The proxier must delete those entries, in every mode
// (ipvs mode runs the same cleanup; its packet tests run in the micro-VM).

for (const mode of ['iptables', 'nftables'] as const) {
  describe(`UDP conntrack cleanup, ${mode} mode (in namespaces)`, { timeout: 120_000 }, () => {
    let topo: PacketTopology;
    let cluster: ProxyCluster;
    let proxier: IptablesProxier | NftablesProxier;
    let conntrack: ReturnType<typeof netlinkConntrack>;

    async function ask(): Promise<string> {
      return (await topo.client.exec(process.execPath, ['-e', UDP_CLIENT, '10.96.0.53', '53'])).stdout.trim();
    }

    beforeAll(async () => {
      topo = await createPacketTopology(2);
      for (const b of topo.backends) {
        const child = b.netns.spawn(process.execPath, ['-e', UDP_SERVER, b.name], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
      }
      const prefix = ['ip', 'netns', 'exec', topo.node.name];
      // The reconciler's ctnetlink socket lives in the node's namespace (a relay started there).
      conntrack = netlinkConntrack(
        'IPv4',
        async () => new ConntrackNetlink(await NetnsChannel.open(topo.node.path)),
      );
      const common = {
        family: 'IPv4' as const,
        nodeName: 'node-a',
        conntrack,
        minSyncPeriodMs: 50,
        syncPeriodMs: 2000,
      };
      proxier =
        mode === 'iptables'
          ? new IptablesProxier({
              ...common,
              executor: execIptables({ family: 'IPv4', commandPrefix: prefix }),
            })
          : new NftablesProxier({
              ...common,
              nftables: execNftables({ family: 'ip', commandPrefix: prefix }),
              backend: { localDetector: nftLocalDetector(undefined), nodeIP: topo.nodeIP },
            });
      cluster = await startProxyCluster('node-a', [proxier]);
    }, 60_000);

    afterAll(async () => {
      conntrack?.close();
      await stopProxyCluster({ cluster, proxiers: [proxier], topo });
    });

    it('moves a UDP flow to the new backend when its backend is removed', async () => {
      const ports = [{ name: 'dns', port: 5353, protocol: 'UDP' }];
      cluster.putService(
        service('dns', { clusterIP: '10.96.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      );
      cluster.putSlice(slice('dns', [{ ip: topo.backends[0]!.ip }], { ports }));
      expect(await until(async () => (await ask()) === 'backend-0', { timeoutMs: 15_000 })).toBe(true);
      const before = (await topo.node.exec('conntrack', ['-L', '-p', 'udp'], { allowFailure: true })).stdout;
      expect(before).toContain(`src=${topo.backends[0]!.ip}`);

      cluster.putSlice(slice('dns', [{ ip: topo.backends[1]!.ip }], { ports }));
      expect(await until(async () => (await ask()) === 'backend-1', { timeoutMs: 15_000 })).toBe(true);
      const after = (await topo.node.exec('conntrack', ['-L', '-p', 'udp'], { allowFailure: true })).stdout;
      expect(after).not.toContain(`src=${topo.backends[0]!.ip}`);
    });
  });
}
