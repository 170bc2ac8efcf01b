import { readFile } from 'node:fs/promises';
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os';
import type { KubeConfig, V1Node } from '@kubernetes/client-node';
import type { CriClient } from '@nodeagent/cri-client';
import { coreV1Requests } from '@nodeagent/informer';
import { setRestClientMetrics } from '@nodeagent/informer/rest-client-metrics';
import {
  ApiPodSource,
  ApiServiceLister,
  apiEventSink,
  apiPodStatusWriter,
  apiTokenSource,
  CriSummaryProvider,
  collectProcessMetrics,
  createKubeletMetrics,
  criImageService,
  Kubelet,
  type KubeletLogger,
  nodeAllocatableEnforcedMessage,
  PodObjectManager,
  type PodRuntime,
  runtimeClassHandlerLookup,
  setupDataDirs,
} from '@nodeagent/kubelet';
import { admissionNodeOf, type PodAdmitHandler } from '@nodeagent/kubelet/admission';
import type { Pod } from '@nodeagent/kubelet/api';
import {
  detectCgroupFilesystem,
  detectNodeSwap,
  driverCgroupFilesystem,
  PodCgroupManager,
} from '@nodeagent/kubelet/cgroups';
import { applyMaxOpenFiles, contentTypeIsProtobuf } from '@nodeagent/kubelet/config';
import {
  cgroupDriverFromRuntime,
  readKubeletIdMapping,
  UserNamespaceAllocator,
} from '@nodeagent/kubelet/cri';
import {
  apiServiceAccountGetter,
  imageCredentialProvidersFromFlags,
  imagePullManagerFromConfig,
} from '@nodeagent/kubelet/images';
import { ContainerLogManager, logRotatePolicy } from '@nodeagent/kubelet/logs';
import {
  type CpuManager,
  type CriRuntimeStack,
  criRuntimeStack,
  type DeviceManager,
  type MemoryManager,
  type TopologyManager,
  withContainerCpusets,
  withContainerDevices,
  withContainerMemoryNodes,
} from '@nodeagent/kubelet/runtime';
import {
  type ApiEventSink,
  MirrorPodSync,
  nodeEventReasons,
  objectTtlFromNode,
} from '@nodeagent/kubelet/sources';
import { type ApiServiceAccountTokens, type CsiDriverWatch, podsDir } from '@nodeagent/kubelet/volumes';
import { defaultLabels } from '@nodeagent/node-status';
import { goArch, parseDuration, systemClock, type Wire } from '@nodeagent/primitives';
import { apiCsi } from './api-csi';
import { apiCsiDriverWatch } from './api-csi-driver-watch';
import { apiDra } from './api-dra';
import { apiRuntimeClassGetter } from './api-runtime-classes';
import { activePods, deviceManagerForConfig, startPodResourcesServer } from './device-manager-wiring';
import { imageFsAsImageGCSeesIt } from './image-gc-first-pass';
import { connectCri } from './image-service-client';
import { startIptablesUtilChains } from './iptables-util-chains';
import { type KubeletApiClients, kubeletApiClients } from './kubelet-api-clients';
import type { ResolvedKubeletOptions } from './kubelet-flags';
import { startKubeletServers } from './kubelet-servers';
import { localNodeAllocatable, nodeRegistrationSettings, podCapacity } from './node-registration-settings';
import { nodeShutdownForConfig } from './node-shutdown';
import { startNodeStatusReporter } from './node-status-wiring';
import { podCgroupDirs } from './pod-cgroup-dirs';
import { startPodCidrUpdates } from './pod-cidr-updates';
import { type CsiVolumeStatsSource, podVolumeStats } from './pod-volume-stats';
import { enforcePodsAllocatable } from './pods-allocatable-cgroup';
import { qosMemoryReserve } from './qos-memory-reserve';
import { enforceReservedCgroups } from './reserved-cgroups';
import { cpuManagerForConfig, memoryManagerForConfig, startCpuAndMemoryManagers } from './resource-managers';
import { type PendingServingPair, startSelfSignedServingPair } from './self-signed-serving-pair';
import { signalStartUpDone } from './start-up-signal';
import {
  applyKernelTunables,
  cgroupV1Deprecated,
  possibleMemoryBackedVolumesOnDisk,
  runStartupChecks,
} from './startup-checks';
import { startStaticPodSources } from './static-pod-sources';
import { startSystemCgroups } from './system-containers-start';
import {
  bootstrapClientCertificate,
  type KubeletCertificates,
  loadKubeconfig,
  startCertificateManagers,
} from './tls-bootstrap';

export interface RunningKubelet {
  kubelet: Kubelet;
  nodeName: string;
  serverPort?: number;
  stop(): Promise<void>;
}

/** The node's first non-internal IPv4 address, the way the kubelet picks a default node IP. */
function defaultNodeIP(): string[] {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return [address.address];
  }
  return ['127.0.0.1'];
}

/**
 * Wires the binary: CRI runtime, the pod-lifecycle engine, pod sources (API server when
 * --kubeconfig is given, static pods from staticPodPath), node registration and heartbeats, and
 * the kubelet server. Without --kubeconfig it runs standalone (static pods only).
 */
export async function runKubelet(
  options: ResolvedKubeletOptions,
  logger: KubeletLogger,
): Promise<RunningKubelet> {
  const nodeName = (options.flags.hostnameOverride ?? hostname()).toLowerCase();
  // First, as upstream's InitializeTLS (UnsecuredDependencies): a --cert-dir it cannot write
  // stops the kubelet before anything else starts. A pair that is sure to be written is generated
  // while the start below waits on the runtime and the disk; its error, if it fails anyway,
  // replaces any later one.
  const servingPair = await startSelfSignedServingPair(options, nodeName, logger);
  return servingPair.errorFirst(() => startKubeletParts(options, logger, nodeName, servingPair));
}

/**
 * The metrics /metrics serves, process_* included, with the API client connected to their
 * rest_client_* series: every API request from here on (TLS bootstrap included) counts there.
 */
function servedMetrics(): ReturnType<typeof createKubeletMetrics> {
  const metrics = createKubeletMetrics();
  collectProcessMetrics(metrics.registry);
  setRestClientMetrics(metrics.restClient);
  return metrics;
}

/**
 * runKubelet past the serving pair, which it awaits before the kubelet is built.
 * function-length: the binary's start in upstream's order, a few lines a step (clients, runtime,
 * data dirs, container manager, kubelet, sources, servers); each step's work is its own function.
 */
async function startKubeletParts(
  options: ResolvedKubeletOptions,
  logger: KubeletLogger,
  nodeName: string,
  servingPair: PendingServingPair,
): Promise<RunningKubelet> {
  const { flags } = options;
  let { config } = options;
  const hostIPs = flags.nodeIP.length > 0 ? flags.nodeIP : defaultNodeIP();
  const startupFindings = await runStartupChecks(config, logger);
  // Every CRI call counted and timed (kubelet_runtime_operations_*); process metrics on /metrics.
  const metrics = servedMetrics();
  // The API clients (kubelet-api-clients.ts) before the runtime is contacted, as upstream builds
  // them first: a bad kubeconfig is named as such, not hidden behind an unreachable runtime.
  const { clients, certificates } = await connectApiServer(options, nodeName, hostIPs, logger);
  // The main client (kubeAPIQPS): everything but node status, the Lease and events.
  const kubeConfig = clients?.kube;
  // runtime-stack.ts: stats, logs, images, the server read `cri`, which the pods' runtime wraps.
  const runtime = criRuntimeStack(await connectCri(config), { metrics });
  const client = runtime.cri;
  // Upstream's data directories before anything is written under them (the image manager's
  // records): a --root-dir or podLogsDir that cannot be made stops the kubelet, named.
  await setupDataDirs(flags.rootDir, config.podLogsDir, config.featureGates);
  // KubeletCgroupDriverFromCRI (GA): the runtime's cgroup driver wins; a runtime without
  // RuntimeConfig (containerd 1.6) leaves the configured one, counted on /metrics as upstream.
  config = {
    ...config,
    cgroupDriver: await cgroupDriverFromRuntime(client, config.cgroupDriver, {
      logger,
      registry: metrics.registry,
    }),
  };
  // Upstream's NewContainerManager: reservedSystemCPUs into systemReserved, the topology and CPU
  // managers built, counting on /metrics (kubelet_cpu_manager_*, kubelet_topology_manager_*).
  const cpus = cpuManagerForConfig(config, flags.rootDir, logger, metrics.registry);
  config = cpus.config;
  // The topology manager's hint providers in upstream's order, which sets the order of the merge's
  // permutations (so which of two equally good NUMA sets wins) and of the allocations: the device
  // manager, the CPU manager, then the memory manager (memoryManagerPolicy, reservedMemory).
  const devices = deviceManagerForConfig(
    config,
    flags.rootDir,
    cpus.topologyManager,
    metrics.registry,
    logger,
  );
  cpus.topologyManager.addHintProvider(cpus.cpuManager);
  const memory = memoryManagerForConfig(config, flags.rootDir, cpus.topologyManager, metrics.registry);
  // Plain requests over the KubeConfig rather than client-node's typed API classes, whose
  // serializer keeps every generated model in memory (see @nodeagent/informer, typed-requests).
  const core = kubeConfig ? coreV1Requests(kubeConfig) : undefined;
  const hostResolvConf = await readFile(config.resolvConf, 'utf8').catch(() => '');

  const cgroups = config.cgroupsPerQOS ? await podCgroupManager(config) : undefined;
  // The summary asks for pods by uid only once the kubelet below exists.
  let kubeletPods: ((uid: string) => Pod | undefined) | undefined;
  let kubeletPodUids: () => Iterable<string> = () => [];
  let kubeletCsiVolumes: CsiVolumeStatsSource = async () => new Map();
  const volumeStats = podVolumeStats(
    config,
    flags.rootDir,
    () => kubeletPodUids(),
    logger,
    (uid) => kubeletCsiVolumes(uid),
  );
  // One stats source for the server's /stats/summary and the eviction manager.
  const summary = new CriSummaryProvider({
    nodeName,
    rootDir: flags.rootDir,
    podLogsDir: config.podLogsDir,
    cri: client,
    podCgroups: podCgroupDirs(cgroups, (uid) => kubeletPods?.(uid)),
    volumeStats: volumeStats.source,
  });
  // Service links: every Service of the cluster, stripped to what the variables read; read as
  // protobuf with upstream's default contentType.
  const services = kubeConfig
    ? new ApiServiceLister(kubeConfig, {
        onError: (error) => logger.warn({ err: String(error) }, 'service watch'),
        protobuf: contentTypeIsProtobuf(config.contentType),
      })
    : undefined;
  services?.start();
  // The CSIDrivers, for drivers' nodeAllocatableUpdatePeriodSeconds (upstream's CSIDriver informer).
  const csiDriverWatch = kubeConfig
    ? apiCsiDriverWatch(kubeConfig, (error) => logger.warn({ err: String(error) }, 'csidriver watch'))
    : undefined;
  csiDriverWatch?.start();
  // ConfigMaps and Secrets by configMapAndSecretChangeDetectionStrategy (Watch: one watch per
  // object; Cache: the TTL the Node's annotation sets, read from the node status's watch).
  let watchedNode: () => Wire<V1Node> | undefined = () => undefined;
  const objects =
    kubeConfig && core
      ? new PodObjectManager({
          strategy: config.configMapAndSecretChangeDetectionStrategy,
          kubeConfig,
          core,
          resyncIntervalMs: parseDuration(config.syncFrequency),
          nodeTtlMs: () => objectTtlFromNode(watchedNode()),
          onError: (error) => logger.warn({ err: String(error) }, 'configmap/secret watch'),
        })
      : undefined;
  // Upstream's one token manager: projected volumes, CSI drivers and credential providers share it.
  const tokens = core ? apiTokenSource(core) : undefined;
  const { credentialProviders, imagePullManager } = await imageDependencies(
    options,
    { config, client, tokens, kubeConfig, metrics },
    logger,
  );
  // Events made before TLS bootstrapping has issued the client certificate wait for it.
  const events = clients
    ? eventSink(clients.events, nodeName, config, logger, certificates.clientCertificate)
    : undefined;
  // Graceful node shutdown (node-shutdown.ts): its admission goes into the Kubelet; it starts after.
  const shutdown = nodeShutdownForConfig({
    config,
    rootDir: flags.rootDir,
    registry: metrics.registry,
    logger,
    recordNodeEvent: events?.node,
    recordPodEvent: events?.pod,
  });
  // The serving pair before the kubelet is built: nothing runs yet when it stops the start.
  const selfSigned = await servingPair.files();
  const logRotation = containerLogManager(runtime, config, logger);
  const kubelet = await createKubelet({
    flags,
    config,
    nodeName,
    hostIPs,
    client,
    runtime: runtime.runtime,
    core,
    tokens,
    kubeConfig,
    services,
    csiDriverWatch,
    objects,
    credentialProviders,
    imagePullManager,
    events,
    hostResolvConf,
    logger,
    metrics,
    summary,
    cgroups,
    cpuManager: cpus.cpuManager,
    memoryManager: memory,
    topologyManager: cpus.topologyManager,
    deviceManager: devices,
    nodeShutdownAdmission: shutdown?.admission,
    watchedNode: () => watchedNode(),
  });
  // Upstream's container manager starts the device manager before the pods sync: the
  // Registration socket is served and its checkpoint restored before any pod is admitted.
  await devices.start(activePods(kubelet));
  // Upstream's sync loop syncs the pods whose devices changed health (their allocatedResourcesStatus).
  devices.watchHealth((uids) => kubelet.resyncPods(uids.flatMap((uid) => kubelet.getPod(uid) ?? [])));
  const podResources = await startPodResourcesServer(
    flags.rootDir,
    {
      pods: activePods(kubelet),
      devices,
      cpus: cpus.cpuManager,
      memory,
      claims: kubelet.dra,
      registry: metrics.registry,
    },
    logger,
  );
  kubeletPods = (uid) => kubelet.getPod(uid);
  kubeletPodUids = () => kubelet.getPods().map((pod) => pod.metadata?.uid ?? '');
  kubeletCsiVolumes = (uid) => kubelet.volumes.csiVolumeStats(uid);
  // podCIDR, then the Node's spec.podCIDRs, to the runtime (upstream's updatePodCIDR callers).
  const stopPodCidr = await startPodCidrUpdates({ config, client, kubeConfig, nodeName, logger });
  // Upstream's Run sets up the iptables util chains before its sync loop.
  const stopIptablesUtil = await startIptablesUtilChains(config.makeIPTablesUtilChains, logger);
  await startKubelet(kubelet, { config, flags, events, cgroups, startupFindings, logger, metrics });
  volumeStats.start();
  // Upstream's setupNode ends, after node allocatable, with systemCgroups and kubeletCgroups.
  const stopSystemContainers = await startSystemCgroups(config, startupFindings.cgroupVersion, logger);
  logRotation.start();
  const stops: (() => Promise<void> | void)[] = [
    () => logRotation.stop(),
    stopSystemContainers,
    stopPodCidr,
    stopIptablesUtil,
  ];
  if (services) stops.push(() => services.stop());
  if (csiDriverWatch) stops.push(() => csiDriverWatch.stop());
  stops.push(
    () => cpus.cpuManager.stop(),
    () => devices.stop(),
    () => podResources.stop(),
    () => volumeStats.stop(),
  );

  // Static pods first and independent of the API server (upstream runs them from the first
  // moment: the control plane itself may be static pods). Their mirror pods follow once the
  // API server answers and the Node exists; their status goes out then.
  const mirrorPods = core ? mirrorPodSync(core, nodeName, kubelet, logger) : undefined;
  if (mirrorPods) stops.push(() => mirrorPods.stop());
  stops.push(...(await startStaticPodSources(config, nodeName, kubelet, mirrorPods, logger)));

  let reporter: ReturnType<typeof startNodeStatusReporter> | undefined;
  if (clients && config.registerNode) {
    reporter = startNodeStatusReporter({
      clients,
      options: { config, flags },
      nodeName,
      hostIPs,
      kubelet,
      client,
      mirrorPods,
      recordNodeEvent: events?.node,
      shutdownStatus: shutdown?.shutdownStatus,
      extendedResources: () => devices.getCapacity(),
      logger,
    });
    const started = reporter;
    watchedNode = () => started.watchedNode;
    stops.push(() => started.stop());
  }
  if (shutdown) {
    // Upstream starts it last in initializeRuntimeDependentModules; a shutdown asks for a status update.
    await shutdown.start(kubelet, () => void reporter?.syncStatus().catch(() => undefined));
    stops.push(() => shutdown.stop());
  }

  // Upstream's sourcesReady: the static pods are read; the API's pods once its informer listed.
  const sourcesReady = () => {
    cpus.cpuManager.markSourcesReady();
    memory.markSourcesReady();
    devices.markSourcesReady();
    void kubelet.markSourcesReady();
    kubelet.dra.markSourcesReady();
  };
  if (kubeConfig) {
    const source = startApiPodSource(kubeConfig, nodeName, kubelet, logger, sourcesReady);
    stops.push(() => source.stop());
  } else sourcesReady();

  const { servers, serverPort } = await startKubeletServers({
    config,
    selfSigned,
    nodeName,
    hostIPs,
    kubelet,
    client,
    summary,
    kubeConfig,
    certificates,
    logger,
  });

  logger.info(
    { nodeName, hostIPs, endpoint: config.containerRuntimeEndpoint, standalone: !kubeConfig },
    'kubelet started',
  );
  // The build's code-cache training stops here (tools/sea/code-cache-training.ts).
  signalStartUpDone();
  return {
    kubelet,
    nodeName,
    serverPort,
    async stop() {
      certificates.stop();
      for (const stop of stops.reverse()) await stop();
      for (const server of servers) await server.close();
      await kubelet.stop();
      await objects?.stop();
      client.close();
    },
  };
}

/**
 * TLS bootstrapping (tls-bootstrap.ts: a client certificate before --kubeconfig is read), the
 * kubeconfig's API clients and the certificate managers. Standalone (no --kubeconfig): none.
 */
async function connectApiServer(
  options: ResolvedKubeletOptions,
  nodeName: string,
  hostIPs: string[],
  logger: KubeletLogger,
): Promise<{ clients: KubeletApiClients | undefined; certificates: KubeletCertificates }> {
  const bootstrapped = await bootstrapClientCertificate(options, nodeName, logger);
  const { kubeconfig } = options.flags;
  const loaded = kubeconfig ? loadKubeconfig(kubeconfig) : undefined;
  const clients = loaded && kubeletApiClients(loaded, options.config);
  // Rotation swaps the credentials of `loaded`, which the clients read through.
  const certificates = await startCertificateManagers(options, loaded, nodeName, hostIPs, logger, {
    bootstrapped,
  });
  return { clients, certificates };
}

/** What the image dependencies are built from besides the options. */
interface ImageDependencySources {
  config: ResolvedKubeletOptions['config'];
  client: CriClient;
  tokens: ApiServiceAccountTokens | undefined;
  kubeConfig: KubeConfig | undefined;
  metrics: ReturnType<typeof createKubeletMetrics>;
}

/** The image credential provider plugins and the verified image pull manager. */
async function imageDependencies(
  { flags }: ResolvedKubeletOptions,
  { config, client, tokens, kubeConfig, metrics }: ImageDependencySources,
  logger: KubeletLogger,
) {
  // Image credential provider plugins (upstream RegisterCredentialProviderPlugins): none without
  // either flag; a bad config or a missing plugin binary stops the kubelet, as upstream.
  const credentialProviders = await imageCredentialProvidersFromFlags(
    { configPath: flags.imageCredentialProviderConfig, binDir: flags.imageCredentialProviderBinDir },
    {
      registry: metrics.registry,
      tokens,
      serviceAccounts: kubeConfig ? apiServiceAccountGetter(kubeConfig) : undefined,
      log: { error: (message) => logger.error({ component: 'credential-provider' }, message) },
      serviceAccountTokenForCredentialProviders:
        config.featureGates.KubeletServiceAccountTokenForCredentialProviders ?? true,
    },
  );
  // Verified image pulls (KEP-2535): records under <root-dir>/image_manager; intents a previous run
  // left are matched against the runtime's images now.
  const imagePullManager = await imagePullManagerFromConfig(config, {
    rootDir: flags.rootDir,
    listImages: async () =>
      (await client.listImages({})).images.map((image) => ({
        id: image.id,
        repoTags: image.repoTags,
        repoDigests: image.repoDigests,
      })),
    clock: systemClock,
    logger,
    registry: metrics.registry,
  });
  return { credentialProviders, imagePullManager };
}

/** What the Kubelet is built from: the settings and the clients, sources and managers wired for it. */
interface KubeletParts {
  flags: ResolvedKubeletOptions['flags'];
  config: ResolvedKubeletOptions['config'];
  nodeName: string;
  hostIPs: string[];
  client: CriClient;
  /** The runtime stack's pod runtime (criRuntimeStack); the Kubelet adds its pod layers. */
  runtime: PodRuntime;
  core: ReturnType<typeof coreV1Requests> | undefined;
  /** The kubelet's one service account token manager (none standalone). */
  tokens: ApiServiceAccountTokens | undefined;
  kubeConfig: KubeConfig | undefined;
  services: ApiServiceLister | undefined;
  /** The cluster's CSIDrivers as a watch keeps them; none when standalone. */
  csiDriverWatch: CsiDriverWatch | undefined;
  /** The pods' ConfigMaps and Secrets; none when standalone. */
  objects: PodObjectManager | undefined;
  credentialProviders: Awaited<ReturnType<typeof imageCredentialProvidersFromFlags>>;
  imagePullManager: Awaited<ReturnType<typeof imagePullManagerFromConfig>>;
  events: ApiEventSink | undefined;
  hostResolvConf: string;
  logger: KubeletLogger;
  metrics: ReturnType<typeof createKubeletMetrics>;
  summary: CriSummaryProvider;
  cgroups: PodCgroupManager | undefined;
  cpuManager: CpuManager;
  /** The memory manager: CreateContainer gets the NUMA nodes of a container's pinned memory. */
  memoryManager: MemoryManager;
  /** The resource-allocation admit handler (upstream's topology manager over the CPU, device and memory managers). */
  topologyManager: TopologyManager;
  /** The device manager: CreateContainer gets its plugins' answers; admission waits for its Allocate calls. */
  deviceManager: DeviceManager;
  /** The node shutdown manager's admission (node-shutdown.ts), when it is configured. */
  nodeShutdownAdmission?: PodAdmitHandler | undefined;
  /** The Node as the node status's watch last saw it (none before registration or standalone). */
  watchedNode: () => Wire<V1Node> | undefined;
}

/** The pod-lifecycle engine over the CRI runtime, with the node's user namespaces and swap detected. */
async function createKubelet(parts: KubeletParts): Promise<Kubelet> {
  const { flags, config, nodeName, hostIPs, client, runtime, core, kubeConfig, services, events } = parts;
  const { credentialProviders, imagePullManager, hostResolvConf, logger, metrics, summary, cgroups } = parts;
  // hostUsers: false pods get ID ranges cut from the kubelet's (getsubids kubelet) by idsPerPod; a
  // setting that cannot work stops the kubelet, as upstream's user namespace manager does.
  const userNamespaces = await UserNamespaceAllocator.create({
    idsPerPod: config.userNamespaces?.idsPerPod,
    kubeletMapping: await readKubeletIdMapping({ idsPerPod: config.userNamespaces?.idsPerPod }),
    maxPods: podCapacity(config, cpus().length),
    podsDir: podsDir(flags.rootDir),
  });
  // memorySwap: each container's swap limit follows the cgroup version and swap controller.
  const swap = await detectNodeSwap((await detectCgroupFilesystem()).version);
  const kubelet = new Kubelet({
    node: {
      name: nodeName,
      rootDir: flags.rootDir,
      hostIPs,
      memoryCapacity: totalmem(),
      swap,
      hostResolvConf,
      // The Node as it registers (upstream's initialNode), for admission until the API's is known.
      labels: { ...flags.nodeLabels, ...defaultLabels({ hostname: nodeName }, 'linux', goArch()) },
      taints: nodeRegistrationSettings(config, flags).registerWithTaints,
    },
    // CreateContainer carries each container's cpusets (upstream's PreCreateContainer).
    runtime: withContainerDevices(
      withContainerMemoryNodes(withContainerCpusets(runtime, parts.cpuManager), parts.memoryManager),
      parts.deviceManager,
    ),
    config: { ...config, maxPods: podCapacity(config, cpus().length) },
    userNamespaces,
    api: {
      node: () => admissionNodeOf(parts.watchedNode()),
      objects: parts.objects,
      services,
      tokens: parts.tokens,
      statusWriter: core ? apiPodStatusWriter(core) : undefined,
      recordEvent: events?.pod,
      recordNodeEvent: events?.node,
      podEventMemory: events,
      // runtimeClassName: the RuntimeClass's handler goes to CRI RunPodSandbox.
      runtimeHandler: kubeConfig ? runtimeClassHandlerLookup(apiRuntimeClassGetter(kubeConfig)) : undefined,
      // Registered CSI drivers go to the CSINode; pods' CSI volumes and claims mount through them.
      csi:
        kubeConfig && core
          ? {
              ...apiCsi(kubeConfig, nodeName, core, events?.claim),
              tokens: parts.tokens,
              driverWatch: parts.csiDriverWatch,
            }
          : undefined,
      // DynamicResourceAllocation (GA): pods' ResourceClaims prepared through registered DRA drivers.
      dra: kubeConfig && core ? apiDra(kubeConfig, nodeName, core) : undefined,
    },
    images: {
      credentialProviders,
      pullManager: imagePullManager,
      service: criImageService(client),
      fs: imageFsAsImageGCSeesIt(() => summary.imageFs()),
    },
    logger,
    metrics,
    stats: summary,
    cgroups,
    // Upstream's GetAllocateResourcesPodAdmitHandler: the topology manager, which allocates through the CPU manager.
    allocateResources: parts.topologyManager,
    pendingAdmission: parts.deviceManager,
    pluginResources: parts.deviceManager,
    deviceHealth: parts.deviceManager,
    devicePlugins: parts.deviceManager.watcherHandler(),
    nodeShutdownAdmission: parts.nodeShutdownAdmission,
  });
  // Upstream's container manager start: cpu_manager_state and memory_manager_state restored or written.
  startCpuAndMemoryManagers(parts.cpuManager, parts.memoryManager, kubelet, runtime, flags.rootDir, logger);
  return kubelet;
}

/**
 * cgroupsPerQOS: the driver must match the runtime's (containerd's SystemdCgroup). With systemd the
 * slices are made through systemd's D-Bus API, and without systemd as PID 1 the kubelet does not start.
 */
async function podCgroupManager(config: ResolvedKubeletOptions['config']): Promise<PodCgroupManager> {
  return new PodCgroupManager({
    fs: await driverCgroupFilesystem(config.cgroupDriver),
    cgroupDriver: config.cgroupDriver,
    cgroupRoot: config.cgroupRoot,
    podPidsLimit: config.podPidsLimit,
    cpuCFSQuota: config.cpuCFSQuota,
    cpuCFSQuotaPeriodUs: parseDuration(config.cpuCFSQuotaPeriod) * 1000,
    // MemoryQoS (the gate's effective value, AllAlpha included): memory.min / memory.low on cgroup v2.
    memoryQoS: config.featureGates.MemoryQoS
      ? { reservationPolicy: config.memoryReservationPolicy }
      : undefined,
    qosMemoryReserve: await qosMemoryReserve(config),
  });
}

/**
 * Sets the open-files limit (as upstream's RunKubelet, before it starts), then starts the kubelet
 * with the node's own allocatable (until the API server has the Node), the
 * startup warnings as Node events, the kubepods cgroup capped at allocatable and the reserved
 * cgroups limited to their reservations.
 */
async function startKubelet(
  kubelet: Kubelet,
  w: {
    config: ResolvedKubeletOptions['config'];
    flags: ResolvedKubeletOptions['flags'];
    events: ApiEventSink | undefined;
    cgroups: PodCgroupManager | undefined;
    startupFindings: Awaited<ReturnType<typeof runStartupChecks>>;
    logger: KubeletLogger;
    metrics: ReturnType<typeof createKubeletMetrics>;
  },
): Promise<void> {
  const { config, flags, events, cgroups, startupFindings, logger, metrics } = w;
  // maxOpenFiles: upstream's RunKubelet sets RLIMIT_NOFILE once the kubelet is built, before it
  // starts; a failure is logged and the start goes on.
  await applyMaxOpenFiles(config.maxOpenFiles, logger);
  // The node's own view until the API server has the Node: downward API limits.* resolve to
  // the allocatable computed here, as upstream's initialNode gives it.
  const allocatable = await localNodeAllocatable(config, flags).catch((error) => {
    logger.warn({ err: String(error) }, 'Cannot compute the node allocatable from the machine');
    return undefined;
  });
  if (allocatable) kubelet.setNodeAllocatable(allocatable);
  // Upstream's container manager warns on the Node when swap could hold memory-backed volumes.
  if (startupFindings.memoryBackedVolumesMaySwap)
    events?.node(
      'Warning',
      possibleMemoryBackedVolumesOnDisk.reason,
      possibleMemoryBackedVolumesOnDisk.message,
    );
  // Upstream's container manager start, once the runtime answers: the kernel tunables, then the
  // node's cgroups (kubepods, made by start).
  await applyKernelTunables(config, logger);
  await kubelet.start();
  // Upstream's warnCgroupV1Usage, after Starting and before NodeAllocatableEnforced.
  if (startupFindings.cgroupVersion === 1)
    events?.node('Warning', cgroupV1Deprecated.reason, cgroupV1Deprecated.message);
  metrics.cgroupVersion.set(startupFindings.cgroupVersion);
  // enforceNodeAllocatable "pods": the kubepods cgroup (made by start) capped at allocatable.
  if (cgroups) {
    await enforcePodsAllocatable(config, { fs: cgroups.fs });
    // Upstream's container manager, once the kubepods cgroup's limits are set at start.
    events?.node('Normal', nodeEventReasons.nodeAllocatableEnforced, nodeAllocatableEnforcedMessage);
    // Then the system-reserved and kube-reserved levels on their existing cgroups (fatal if missing).
    await enforceReservedCgroups(config, { fs: cgroups.fs, recordEvent: events?.node });
  }
}

/** Static pods' mirror pods in the API; a static pod syncs again once its mirror pod exists (its status goes out). */
function mirrorPodSync(
  core: ReturnType<typeof coreV1Requests>,
  nodeName: string,
  kubelet: Kubelet,
  logger: KubeletLogger,
): MirrorPodSync {
  return new MirrorPodSync({
    core,
    nodeName,
    onCreated: (pods) => kubelet.resyncPods(pods),
    onError: (error) => logger.warn({ err: String(error) }, 'mirror pods'),
  });
}

/** The API server's pods for this node, handed to the kubelet as they come and go (mirror pods only held). */
function startApiPodSource(
  kubeConfig: KubeConfig,
  nodeName: string,
  kubelet: Kubelet,
  logger: KubeletLogger,
  onListed: () => void,
): ApiPodSource {
  const source = new ApiPodSource(
    kubeConfig,
    nodeName,
    {
      add: (pod) => kubelet.addPod(pod),
      update: (pod) => kubelet.updatePod(pod),
      remove: (pod) => kubelet.removePod(pod),
      // Static pods' statuses are reconciled against their mirror pods.
      mirrorPods: kubelet.mirrorPods,
    },
    (error) => logger.warn({ err: String(error) }, 'pod watch'),
  );
  // API pods arrive when the informer has listed; nothing waits for that here but `onListed`.
  void source
    .start()
    .then(onListed)
    .catch((error) => logger.warn({ err: String(error) }, 'pod watch'));
  return source;
}

/** containerLog*: upstream's container log manager rotates logs through CRI ReopenContainerLog. */
function containerLogManager(
  runtime: CriRuntimeStack,
  config: ResolvedKubeletOptions['config'],
  logger: KubeletLogger,
): ContainerLogManager {
  const manager = new ContainerLogManager({
    runtime: runtime.cri,
    policy: logRotatePolicy(config.containerLogMaxSize, config.containerLogMaxFiles),
    maxWorkers: config.containerLogMaxWorkers,
    monitorIntervalMs: parseDuration(config.containerLogMonitorInterval),
    // Every container this kubelet starts is reported as it starts (the runtime stack's
    // onContainerStarted, below), and the first pass finds those already running: a
    // ListContainers a second between the passes would look for nothing (60 CRI calls a minute on an idle node, #47).
    discoveryIntervalMs: parseDuration(config.containerLogMonitorInterval),
    logger,
  });
  // Each container the kubelet starts is watched for log growth at once (a fast writer outruns a pass).
  runtime.onContainerStarted((id) => {
    manager.containerStarted(id).catch((error: unknown) => {
      logger.warn({ containerId: id, err: String(error) }, 'Cannot watch the container log');
    });
  });
  return manager;
}

/**
 * Pod and node events through one recorder, as upstream's: correlated (repeats bump count),
 * written at most eventRecordQPS a second with eventBurst at once, kept and retried while the
 * API server cannot be reached (before it answers, or before the client certificate exists).
 */
function eventSink(
  eventClient: KubeConfig,
  nodeName: string,
  config: ResolvedKubeletOptions['config'],
  logger: KubeletLogger,
  writableAfter: Promise<void>,
): ApiEventSink {
  return apiEventSink(coreV1Requests(eventClient), {
    nodeName,
    writableAfter,
    eventRecordQPS: config.eventRecordQPS,
    eventBurst: config.eventBurst,
    // Upstream logs each at error level, with its own wording (the queued event waits and retries).
    onError: (error, failure) => logger.error(error === undefined ? {} : { err: String(error) }, failure),
  });
}
