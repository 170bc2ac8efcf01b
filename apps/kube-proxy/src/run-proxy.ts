import { networkInterfaces } from 'node:os';
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import {
  applyOomScoreAdj,
  type ClusterWatch,
  detectNodeIPs,
  type IPFamily,
  ipFamilyOf,
  type KubeProxyConfiguration,
  KubeProxyError,
  KubeProxyMetrics,
  multiFamilyHandler,
  type NodeFacts,
  netlinkConntrack,
  nodePortIPsFromConfig,
  nodeReader,
  type ProxyHandler,
  ServiceHealthServer,
  waitForNodeIPs,
  waitForPodCIDRs,
  watchCluster,
} from '@nodeagent/kube-proxy';
import { execIptables, IptablesProxier, iptablesOptionsFromConfig } from '@nodeagent/kube-proxy/iptables';
import {
  type ClosableIpvsTable,
  execIpsetLayer,
  IpvsProxier,
  ipvsOptionsFromConfig,
  openIpvsTable,
  rtnetlinkLinkLayer,
} from '@nodeagent/kube-proxy/ipvs';
import { defaultNftables, NftablesProxier, nftablesOptionsFromConfig } from '@nodeagent/kube-proxy/nftables';
import {
  collectProcessMetrics,
  type NfacctClient,
  openNetlinkNfacct,
  procSysctlLayer,
  rateLimitedKubeConfig,
  setRestClientMetrics,
  TokenBucketRateLimiter,
} from '@nodeagent/kube-proxy/runtime';
import {
  portalIptablesFor,
  UserspaceProxier,
  userspaceOptionsFromConfig,
} from '@nodeagent/kube-proxy/userspace';
import type { Clock, Wire } from '@nodeagent/primitives';
import { goAggregateText } from '@nodeagent/primitives/go-text';
import type { Logger } from 'pino';
import { apiServerConfig } from './api-server-config';
import { BAD_CONFIG_MESSAGE, badConfig, IncorrectConfigurationError } from './bad-config';
import { type DaemonSettings, daemonSettings, nodeNameFor } from './daemon-settings';
import { hostFamilies } from './host-families';
import { setupNode } from './node-setup';
import { logProxierChoice } from './proxier-startup-log';
import { startServers } from './proxy-servers';
import { SyncEndSignallingHealth } from './sync-end-signal';

/** How RunningProxy.stop ends the proxiers. */
export interface StopOptions {
  /**
   * Wait for a sync in progress to finish (default true: an embedder gets a proxy that has
   * stopped touching the kernel when stop resolves). The binary's SIGTERM/SIGINT passes false
   * and exits next, as upstream's process does: a sync's kernel write is one iptables-restore
   * run or nf_tables batch, so an abandoned one leaves the rules as the last completed write
   * left them (see cli.ts).
   */
  waitForSync?: boolean;
}

/** The daemon runProxy started. */
export interface RunningProxy {
  nodeName: string;
  families: IPFamily[];
  /** Stops the informers, the proxiers' sync loops and the servers. */
  stop(opts?: StopOptions): Promise<void>;
}

/** IP families to proxy: those of clusterCIDR when set, else the node's primary family (IPv4 by default). */
export function familiesFor(config: KubeProxyConfiguration, primaryFamily: IPFamily = 'IPv4'): IPFamily[] {
  const fams = new Set(
    config.clusterCIDR
      .split(',')
      .map((c) => ipFamilyOf(c.trim()))
      .filter((f): f is IPFamily => f !== undefined),
  );
  return fams.size === 0 ? [primaryFamily] : (['IPv4', 'IPv6'] as const).filter((f) => fams.has(f));
}

export { nodeNameFor };

/**
 * The API server (see apiServerConfig) with clientConnection.qps/burst's token bucket in front
 * of every request.
 */
function loadKubeConfig(s: DaemonSettings, master: string | undefined, log: Logger): KubeConfig {
  const { kubeConfig: kc, inCluster } = apiServerConfig({ kubeconfigPath: s.kubeconfigPath, master });
  if (inCluster)
    log.info('Neither kubeconfig file nor master URL was specified, falling back to in-cluster config');
  if (s.api.qps < 0) return kc;
  return rateLimitedKubeConfig(
    kc,
    new TokenBucketRateLimiter({ qps: s.api.qps, burst: Math.max(1, s.api.burst) }),
  );
}

function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a.address);
}

/**
 * What kube-proxy learns from its own Node before it starts, as upstream does: the host IPs
 * (waiting up to ~31 s for the Node; a specified bindAddress overrides the primary; loopback if
 * neither) and, for detectLocalMode NodeCIDR, the pod CIDRs (waiting up to 5 minutes).
 */
async function discoverNode(
  s: DaemonSettings,
  getNode: () => Promise<Wire<V1Node> | undefined>,
  log: Logger,
): Promise<{ primaryFamily: IPFamily; facts: NodeFacts }> {
  const raw = await waitForNodeIPs({
    getNode,
    onRetry: (reason) => log.error({ reason }, 'Failed to retrieve node IPs'),
  });
  if (raw.length > 0) log.info({ IPs: raw }, 'Successfully retrieved node IP(s)');
  const detected = detectNodeIPs(raw, s.bindAddress);
  if (detected.primaryIsLoopback) {
    log.info(
      "Can't determine this node's IP, assuming loopback; if this is incorrect, please set the --bind-address flag",
    );
  }
  const other: IPFamily = detected.primaryFamily === 'IPv4' ? 'IPv6' : 'IPv4';
  const facts: NodeFacts = {
    nodeIPs: [detected.byFamily[detected.primaryFamily], detected.byFamily[other]],
  };
  if (s.waitForPodCIDRs) {
    facts.podCIDRs = await waitForPodCIDRs({ getNode });
    log.info({ podCIDRs: facts.podCIDRs }, 'NodeCIDR local-traffic detection');
  }
  return { primaryFamily: detected.primaryFamily, facts };
}

/** What every mode's proxier offers the daemon besides the informer callbacks. */
type RunnableProxier = ProxyHandler & {
  start(): void;
  stop(): Promise<void> | void;
  /** Resolves when no sync is running. */
  whenIdle(): Promise<void>;
};

/** A Node being deleted or drained by the cluster autoscaler should fail /healthz so LBs drain it. */
function nodeEligible(node: Wire<V1Node>): boolean {
  if (node.metadata?.deletionTimestamp) return false;
  return !(node.spec?.taints ?? []).some((t) => t.key === 'ToBeDeletedByClusterAutoscaler');
}

/** What runProxy takes besides the configuration. */
export interface RunProxyOptions {
  /** --master: overrides the kubeconfig's server. */
  master?: string;
  /** Where oomScoreAdj is written (tests point it at a file of their own). */
  oomScoreAdjPath?: string;
  /** Spaces the healthz and metrics servers' attempts to bind (tests pass a FakeClock). */
  clock?: Clock;
}

/** Starts the kube-proxy daemon (iptables, nftables, ipvs or userspace mode): servers, proxier(s), informers. */
export async function runProxy(
  config: KubeProxyConfiguration,
  log: Logger,
  opts: RunProxyOptions = {},
): Promise<RunningProxy> {
  const s = daemonSettings(config);
  const { mode, nodeName, syncPeriodMs } = s;
  if (mode !== 'iptables' && mode !== 'nftables' && mode !== 'ipvs' && mode !== 'userspace') {
    throw new KubeProxyError(
      'MODE_NOT_IMPLEMENTED',
      `proxy mode ${JSON.stringify(mode)} is not implemented yet`,
    );
  }
  // The API server first, as upstream's createClient: no usable one is fatal before anything runs.
  const kc = loadKubeConfig(s, opts.master, log);
  // Registered first, as upstream's at init: every API request from here on counts in rest_client_*.
  const metrics = new KubeProxyMetrics();
  setRestClientMetrics(metrics.restClient);
  if (s.oomScoreAdj !== null) {
    // As upstream: a proxy that may not lower its score (no CAP_SYS_RESOURCE) runs on.
    await applyOomScoreAdj(s.oomScoreAdj, opts.oomScoreAdjPath).catch((err: Error) =>
      log.warn({ field: 'oomScoreAdj', value: s.oomScoreAdj, err: err.message }, 'Failed to apply OOMScore'),
    );
  }
  const node = await discoverNode(s, nodeReader(kc, nodeName), log);
  // Userspace mode (ours) serves clusterCIDR's families; the others the host's, as upstream.
  const families =
    mode === 'userspace' ? familiesFor(config, node.primaryFamily) : hostFamilies(mode, node.primaryFamily);
  log.info(
    families.length > 1 ? { 'primary ipFamily': families[0] } : { ipFamily: families[0] },
    families.length > 1 ? 'kube-proxy running in dual-stack mode' : 'kube-proxy running in single-stack mode',
  );
  const bad = badConfig(config, node.primaryFamily, families.length > 1, node.facts.podCIDRs);
  if (bad.fatal.length > 0) throw new IncorrectConfigurationError(bad.fatal);
  if (bad.warnings.length > 0) log.error({ err: goAggregateText(bad.warnings) }, BAD_CONFIG_MESSAGE);
  await setupNode(config, log);
  logProxierChoice(mode, log);
  // process_* as upstream's legacyregistry carries them (and nodejs_* for its go_*).
  collectProcessMetrics(metrics.registry);
  const health = new SyncEndSignallingHealth(2 * syncPeriodMs);
  const facts: NodeFacts = { ...node.facts, localAddresses: localAddresses() };
  const closers: (() => Promise<void>)[] = [];
  const kernel = await openKernelHandles(mode, closers, log);

  await startServers(s, { metrics, health }, closers, log, opts.clock);
  const hcBind = families.flatMap((f) => nodePortIPsFromConfig(config, f, facts) ?? []);
  const serviceHealth = new ServiceHealthServer({
    bindAddresses: hcBind.length > 0 ? hcBind : [''],
    proxierHealthy: () => health.status().healthy,
    onListenError: (service, port, err) =>
      log.error({ service, port, err: err.message }, 'health check port failed'),
  });
  closers.push(() => serviceHealth.close());

  const shared: ProxierParts = { config, settings: s, facts, kernel, metrics, health, serviceHealth, log };
  const proxiers: RunnableProxier[] = families.map((family) => createProxier(family, shared));
  health.track(families, () => Promise.all(proxiers.map((p) => p.whenIdle())));
  for (const p of proxiers) p.start();
  const fanOut = multiFamilyHandler(proxiers);
  const handler: ProxyHandler = {
    ...fanOut,
    onNode: (node) => {
      health.setNodeEligible(nodeEligible(node));
      fanOut.onNode(node);
    },
  };
  const watch: ClusterWatch = watchCluster({
    kubeConfig: kc,
    nodeName,
    handler,
    protobuf: s.listsAsProtobuf,
    onError: (err) => log.warn({ err: (err as Error)?.message ?? String(err) }, 'watch error'),
  });
  log.info({ nodeName, families, mode }, 'kube-proxy started');
  return {
    nodeName,
    families,
    async stop(stopOpts: StopOptions = {}) {
      // Each proxier's stop() cancels its runner before its first await: no sync starts after
      // this, whether or not the one in progress is waited for.
      const stopping = Promise.all(proxiers.map((p) => p.stop()));
      if (stopOpts.waitForSync === false) stopping.catch(() => undefined);
      await watch.stop();
      if (stopOpts.waitForSync !== false) await stopping;
      for (const c of closers.reverse()) await c();
    },
  };
}

/** The kernel handles a mode keeps open for its life, each with its closer in `closers`. */
interface KernelHandles {
  /** ipvs mode: the IPVS table (both families). */
  ipvs: ClosableIpvsTable | undefined;
  /** ipvs mode: kube-ipvs0 and its addresses over rtnetlink. */
  link: ReturnType<typeof rtnetlinkLinkLayer> | undefined;
  /** iptables mode: the nfacct counters, when the socket opened. */
  nfacct: NfacctClient | undefined;
}

/** Opens the kernel handles `mode` needs (none for nftables and userspace). */
async function openKernelHandles(
  mode: string,
  closers: (() => Promise<void>)[],
  log: Logger,
): Promise<KernelHandles> {
  // ipvs mode: one IPVS netlink handle for both families opened before any server
  // starts, so a kernel without ip_vs fails fast (IpvsUnavailableError) with nothing to close.
  let ipvs: ClosableIpvsTable | undefined;
  let link: ReturnType<typeof rtnetlinkLinkLayer> | undefined;
  if (mode === 'ipvs') {
    const handle = await openIpvsTable();
    ipvs = handle;
    closers.push(async () => handle.close());
    // kube-ipvs0 and its service addresses over rtnetlink, one socket for both families.
    const rt = rtnetlinkLinkLayer();
    link = rt;
    closers.push(async () => rt.close());
  }

  // iptables mode: upstream's nfacct counters (INVALID drops, localhost NodePort packets) over
  // one NETLINK_NETFILTER socket; without it the rules go without them and so do the metrics.
  let nfacct: NfacctClient | undefined;
  if (mode === 'iptables') {
    try {
      const client = await openNetlinkNfacct();
      nfacct = client;
      closers.push(async () => client.close());
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        "Failed to create nfacct runner, nfacct based metrics won't be available",
      );
    }
  }
  return { ipvs, link, nfacct };
}

/** What every family's proxier is built from. */
interface ProxierParts {
  config: KubeProxyConfiguration;
  settings: DaemonSettings;
  facts: NodeFacts;
  kernel: KernelHandles;
  metrics: KubeProxyMetrics;
  health: SyncEndSignallingHealth;
  serviceHealth: ServiceHealthServer;
  log: Logger;
}

/** The proxier of one family for the configured mode. */
function createProxier(family: IPFamily, parts: ProxierParts): RunnableProxier {
  const { config, facts, metrics, health, serviceHealth, log } = parts;
  const s = parts.settings;
  const { mode, nodeName, syncPeriodMs, minSyncPeriodMs } = s;
  const { ipvs, link, nfacct } = parts.kernel;
  if (mode === 'userspace') {
    return new UserspaceProxier({
      family,
      nodeName,
      ...userspaceOptionsFromConfig(config, family, s.userspaceBindOnly, facts),
      ...(s.userspaceBindOnly ? {} : { iptables: portalIptablesFor(family) }),
      metrics,
      health,
      serviceHealth,
      logger: log.child({ ipFamily: family }),
    });
  }
  if (ipvs && link) {
    return new IpvsProxier({
      family,
      nodeName,
      kernel: {
        ipvs,
        link,
        ipset: execIpsetLayer(),
        iptables: execIptables({ family }),
        sysctl: procSysctlLayer(),
      },
      backend: ipvsOptionsFromConfig(config, family, facts),
      conntrack: netlinkConntrack(family),
      minSyncPeriodMs,
      syncPeriodMs,
      metrics,
      health,
      serviceHealth,
      logger: log.child({ ipFamily: family }),
    });
  }
  return mode === 'nftables'
    ? new NftablesProxier({
        family,
        nodeName,
        // nf_tables over netlink (no nft process); the nft binary when the socket cannot be opened.
        nftables: defaultNftables({
          family: family === 'IPv6' ? 'ip6' : 'ip',
          onFallback: (err) =>
            log.warn({ err, ipFamily: family }, 'nftables over netlink unavailable, using the nft binary'),
        }),
        // ctnetlink in the daemon's own namespace, as upstream (no conntrack binary).
        conntrack: netlinkConntrack(family),
        backend: nftablesOptionsFromConfig(config, family, facts),
        minSyncPeriodMs,
        syncPeriodMs,
        metrics,
        health,
        serviceHealth,
        logger: log.child({ ipFamily: family }),
      })
    : new IptablesProxier({
        family,
        nodeName,
        // Full syncs on iptables-nft over netlink, in this process's namespace (see fullSyncOverNetlink).
        executor: execIptables({ family, logger: log.child({ ipFamily: family }) }),
        conntrack: netlinkConntrack(family),
        ...(nfacct ? { nfacct } : {}),
        backend: iptablesOptionsFromConfig(config, family, facts),
        keepLastPayload: false,
        minSyncPeriodMs,
        syncPeriodMs,
        metrics,
        health,
        serviceHealth,
        logger: log.child({ ipFamily: family }),
      });
}
