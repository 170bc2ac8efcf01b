import type { KubeConfig } from '@kubernetes/client-node';
import { type ClusterWatch, watchCluster } from '@nodeagent/kube-proxy';
import { IptablesProxier, iptablesExecutor } from '@nodeagent/kube-proxy/iptables';
import { HollowIptables } from './hollow-iptables';
import type { HollowLogger } from './hollow-logger';

/** kube-proxy's iptables defaults (KubeProxyConfiguration iptables.minSyncPeriod and syncPeriod). */
const MIN_SYNC_PERIOD_MS = 1_000;
const SYNC_PERIOD_MS = 30_000;

/** One node's running kube-proxy half. */
export interface HollowProxy {
  proxier: IptablesProxier;
  /** The rules it wrote (iptables-save form through saveText). */
  iptables: HollowIptables;
  watch: ClusterWatch;
  stop(): Promise<void>;
}

/** A kube-proxy half's start: what outlives its restarts, and how it reads the API server. */
export interface HollowProxyOptions {
  /** The node's rules so far (a restarted kube-proxy finds its predecessor's); default: none. */
  iptables?: HollowIptables;
  /** List and watch Services and EndpointSlices as protobuf, upstream's default content type. */
  protobuf?: boolean;
}

/**
 * Starts one node's kube-proxy half: the real iptables-mode proxier (change tracking, snapshots,
 * rule rendering, partial and full syncs) writing to a fake iptables, fed by the node's own
 * Service, EndpointSlice and Node informers. A restarted kube-proxy gets the node's `iptables`
 * back with the rules its predecessor wrote, as the kernel keeps them.
 */
export function startHollowProxy(
  nodeName: string,
  kubeConfig: KubeConfig,
  logger: HollowLogger,
  { iptables = new HollowIptables(), protobuf = false }: HollowProxyOptions = {},
): HollowProxy {
  const proxier = new IptablesProxier({
    family: 'IPv4',
    nodeName,
    executor: iptablesExecutor(iptables),
    keepLastPayload: false,
    minSyncPeriodMs: MIN_SYNC_PERIOD_MS,
    syncPeriodMs: SYNC_PERIOD_MS,
    logger,
  });
  proxier.start();
  const watch = watchCluster({
    kubeConfig,
    nodeName,
    handler: proxier,
    protobuf,
    onError: (err) => logger.warn({ err: (err as Error)?.message ?? String(err) }, 'watch error'),
  });
  return {
    proxier,
    iptables,
    watch,
    async stop() {
      const stopping = proxier.stop();
      await watch.stop();
      await stopping;
    },
  };
}
