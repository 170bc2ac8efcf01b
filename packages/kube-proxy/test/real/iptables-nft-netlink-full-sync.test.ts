import { IptablesClient, isApplyError } from '@nodeagent/netfilter';
import { type Netns, NetnsScope } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prefixedRunner } from '../../src/exec/prefixed-runner';
import { KubeProxyMetrics } from '../../src/index';
import { execIptables, IptablesProxier, iptablesExecutor } from '../../src/iptables/index';
import { fullSyncOverNetlink } from '../../src/shared/iptables-executor';
import { service, slice } from '../fixtures';

// Full syncs on the iptables-nft back end go over netlink (issue #54): a proxier whose full
// syncs the netlink writer applies must leave the kernel exactly as one whose full syncs
// iptables-nft-restore applies, fall back to the tool for a payload the writer cannot take,
// and treat a batch the kernel refuses as a failed full sync that changed nothing.

const scope = new NetnsScope('ipt-nl-sync');

interface Side {
  ns: Netns;
  proxier: IptablesProxier;
  metrics: KubeProxyMetrics;
}

const info: { reason: string }[] = [];
let channelsOpened = 0;
let byWriter: Side;
let byTool: Side;

function proxierIn(ns: Netns, overNetlink: boolean): Side {
  const prefix = ['ip', 'netns', 'exec', ns.name];
  const logger = {
    debug() {},
    info(obj: object) {
      if ('reason' in obj) info.push(obj as { reason: string });
    },
    warn() {},
    error() {},
  };
  let executor = execIptables({ family: 'IPv4', commandPrefix: prefix, fullSyncOverNetlink: false });
  if (overNetlink) {
    // What execIptables builds by default, with the channel opener counted.
    // Every full sync over netlink, whatever its size (the default leaves small ones to the tool).
    const netlink = fullSyncOverNetlink({ commandPrefix: prefix, logger, minChains: 0 });
    const client = new IptablesClient({
      family: 'ipv4',
      runner: prefixedRunner(prefix),
      backend: 'nft',
      nftNetlink: {
        ...netlink,
        openChannel: () => {
          channelsOpened++;
          return netlink.openChannel();
        },
      },
    });
    executor = iptablesExecutor(client);
  }
  const metrics = new KubeProxyMetrics();
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName: 'node-a',
    executor,
    metrics,
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    backend: { nodeIP: '10.0.0.1' },
  });
  return { ns, proxier, metrics };
}

const both = () => [byWriter, byTool];

async function saved(side: Side): Promise<string> {
  const text = (await side.ns.exec('iptables-nft-save')).stdout;
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('\n');
}

async function syncBoth(full: boolean) {
  const results = [];
  for (const side of both()) {
    if (full) side.proxier.forceFullSync();
    results.push(await side.proxier.syncProxyRules());
  }
  return results;
}

async function failures(side: Side): Promise<number> {
  const { values } = await side.metrics.iptablesRestoreFailuresTotal.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

beforeAll(async () => {
  byWriter = proxierIn(await scope.create(), true);
  byTool = proxierIn(await scope.create(), false);
  for (const { proxier } of both()) {
    proxier.onServiceAdd(
      service('web', {
        type: 'NodePort',
        clusterIP: '10.96.0.20',
        ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP', targetPort: 8080 as never }],
      }),
    );
    proxier.onEndpointSliceAdd(
      slice('web', [{ ip: '10.244.1.2' }, { ip: '10.244.1.3', node: 'node-a' }, { ip: '10.244.2.4' }]),
    );
    proxier.onServiceAdd(service('dns', { clusterIP: '10.96.0.10' }));
    proxier.onEndpointSliceAdd(slice('dns', [{ ip: '10.244.3.9' }]));
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
  }
}, 60_000);

afterAll(async () => {
  for (const side of [byWriter, byTool]) await side?.proxier.stop();
  await scope.cleanup();
});

describe('iptables-nft full syncs over netlink, against iptables-nft-restore (in namespaces)', {
  timeout: 120_000,
}, () => {
  it('a full sync leaves the same iptables-save as the tool, and later partial syncs work on it', async () => {
    const [viaWriter, viaTool] = await syncBoth(false);
    expect(viaWriter).toMatchObject({ kind: 'full', ok: true });
    expect(viaTool).toMatchObject({ kind: 'full', ok: true });
    expect(channelsOpened).toBe(1);
    expect(info).toEqual([]);
    const text = await saved(byWriter);
    expect(text).toContain('-A KUBE-SVC-');
    expect(text).toContain(
      '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    );
    expect(text).toBe(await saved(byTool));

    for (const { proxier } of both())
      proxier.onEndpointSliceUpdate(slice('web', []), slice('web', [{ ip: '10.244.1.7' }]));
    const [partial] = await syncBoth(false);
    expect(partial).toMatchObject({ kind: 'partial', ok: true });
    expect(channelsOpened).toBe(1);
    expect(await saved(byWriter)).toContain('10.244.1.7:8080');
    expect(await saved(byWriter)).toBe(await saved(byTool));
  });

  it('a session-affinity Service sends that full sync to the tool, once logged', async () => {
    for (const { proxier } of both()) {
      proxier.onServiceAdd(
        service('sticky', {
          clusterIP: '10.96.0.30',
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        }),
      );
      proxier.onEndpointSliceAdd(slice('sticky', [{ ip: '10.244.4.1' }, { ip: '10.244.4.2' }]));
    }
    const opened = channelsOpened;
    for (let round = 0; round < 2; round++) {
      const [viaWriter] = await syncBoth(true);
      expect(viaWriter).toMatchObject({ kind: 'full', ok: true });
    }
    // Refused while the text is encoded, before any socket is opened.
    expect(channelsOpened).toBe(opened);
    expect(info).toHaveLength(1);
    expect(info[0]!.reason).toContain('recent');
    const text = await saved(byWriter);
    expect(text).toContain('-m recent --rcheck --seconds 600 --reap --name KUBE-SEP-');
    expect(text).toBe(await saved(byTool));
    for (const { proxier } of both()) proxier.onServiceDelete(service('sticky'));
    // Its stale chains are deleted over netlink, endpoint chains listed before the service's.
    const [deleted] = await syncBoth(true);
    expect(deleted).toMatchObject({ kind: 'full', ok: true });
    expect(channelsOpened).toBe(opened + 1);
    expect(await saved(byWriter)).toBe(await saved(byTool));
  });

  it('a batch the kernel refuses changes nothing, counts a failed full sync, and the retry is a full sync', async () => {
    // Something outside kube-proxy jumps to one of its endpoint chains: deleting that chain (stale
    // once the endpoint is gone) is refused (EBUSY), so the whole transaction is.
    const before = await saved(byWriter);
    const sep = /^:(KUBE-SEP-\S+) /m.exec(before.split('*nat')[1] ?? '')?.[1];
    expect(sep).toBeDefined();
    await byWriter.ns.exec('iptables-nft', ['-t', 'nat', '-A', 'OUTPUT', '-d', '192.0.2.1/32', '-j', sep!]);
    const held = await saved(byWriter);
    byWriter.proxier.onEndpointSliceUpdate(slice('web', []), slice('web', []));
    byWriter.proxier.onEndpointSliceUpdate(slice('dns', []), slice('dns', []));
    byWriter.proxier.forceFullSync();
    const refused = await byWriter.proxier.syncProxyRules();
    expect(refused).toMatchObject({ kind: 'full', ok: false });
    expect(isApplyError(refused!.error)).toBe(false);
    expect(String((refused!.error as Error).message)).toMatch(/EBUSY/);
    expect((refused!.error as { operation?: string }).operation).toContain(sep!);
    expect(await saved(byWriter)).toBe(held);
    expect(await failures(byWriter)).toBe(1);

    await byWriter.ns.exec('iptables-nft', ['-t', 'nat', '-D', 'OUTPUT', '-d', '192.0.2.1/32', '-j', sep!]);
    const retried = await byWriter.proxier.syncProxyRules();
    expect(retried).toMatchObject({ kind: 'full', ok: true });
    expect(await saved(byWriter)).not.toContain(sep!);
  });
});
