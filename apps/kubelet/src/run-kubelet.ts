import { readFile } from 'node:fs/promises';
import { cpus, hostname, networkInterfaces, totalmem } from 'node:os';
import { join } from 'node:path';
import { authenticationV1Requests, authorizationV1Requests, coreV1Requests } from '@nodeagent/informer';
import {
  ApiPodSource,
  ApiServiceLister,
  alwaysAllow,
  apiEventSink,
  apiObjectSource,
  apiPodStatusWriter,
  apiTokenSource,
  CriSummaryProvider,
  collectProcessMetrics,
  createHealthzServer,
  createKubeletMetrics,
  createKubeletServer,
  criImageService,
  criPodRuntime,
  criStreamingRuntime,
  Kubelet,
  type KubeletLogger,
  kubeletAuthenticator,
  listen,
  nodeAllocatableEnforcedMessage,
  nodeStatusEventMessage,
  type RunningServer,
  runtimeClassHandlerLookup,
  StaticPodSource,
  subjectAccessReviewAuthorizer,
} from '@nodeagent/kubelet';
import type { Pod } from '@nodeagent/kubelet/api';
import { detectCgroupFilesystem, detectNodeSwap, PodCgroupManager } from '@nodeagent/kubelet/cgroups';
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
import { ContainerLogManager, logRotatePolicy, reportingContainerStarts } from '@nodeagent/kubelet/logs';
import { instrumentCriClient } from '@nodeagent/kubelet/metrics';
import { selfSignedCertificate } from '@nodeagent/kubelet/server';
import { HttpPodSource, isPodFromSource, MirrorPodSync } from '@nodeagent/kubelet/sources';
import { NodeStatusReporter, nodeImagesFromCri } from '@nodeagent/node-status';
import { parseDuration, systemClock } from '@nodeagent/primitives';
import { apiRuntimeClassGetter } from './api-runtime-classes';
import { connectCri } from './image-service-client';
import type { ResolvedKubeletOptions } from './kubelet-flags';
import { localNodeAllocatable, nodeRegistrationSettings, podCapacity } from './node-registration-settings';
import { enforcePodsAllocatable } from './pods-allocatable-cgroup';
import { createReadOnlyServer } from './read-only-server';
import { possibleMemoryBackedVolumesOnDisk, runStartupChecks } from './startup-checks';
import { bootstrapClientCertificate, loadKubeconfig, startCertificateManagers } from './tls-bootstrap';

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
  const { flags } = options;
  let { config } = options;
  const nodeName = (flags.hostnameOverride ?? hostname()).toLowerCase();
  const hostIPs = flags.nodeIP.length > 0 ? flags.nodeIP : defaultNodeIP();
  const startupFindings = await runStartupChecks(config, logger);
  // Every CRI call counted and timed (kubelet_runtime_operations_*); process metrics on /metrics.
  const metrics = createKubeletMetrics();
  collectProcessMetrics(metrics.registry);
  // TLS bootstrapping (tls-bootstrap.ts): a client certificate before --kubeconfig is read. Both
  // come before the runtime is contacted, as upstream builds its API clients first: a bad
  // kubeconfig is named as such, not hidden behind an unreachable runtime.
  const bootstrapped = await bootstrapClientCertificate(options, nodeName, logger);
  const kubeConfig = flags.kubeconfig ? loadKubeconfig(flags.kubeconfig) : undefined;
  const certificates = await startCertificateManagers(options, kubeConfig, nodeName, hostIPs, logger, {
    bootstrapped,
  });
  const client = instrumentCriClient(await connectCri(config), metrics);
  // KubeletCgroupDriverFromCRI (GA): the runtime's cgroup driver wins; a runtime without
  // RuntimeConfig (containerd 1.6) leaves the configured one.
  config = {
    ...config,
    cgroupDriver: await cgroupDriverFromRuntime(client, config.cgroupDriver, { logger }),
  };
  // Plain requests over the KubeConfig rather than client-node's typed API classes, whose
  // serializer keeps every generated model in memory (see @nodeagent/informer, typed-requests).
  const core = kubeConfig ? coreV1Requests(kubeConfig) : undefined;
  const hostResolvConf = await readFile(config.resolvConf, 'utf8').catch(() => '');

  // One stats source for the server's /stats/summary and the eviction manager.
  const summary = new CriSummaryProvider({
    nodeName,
    rootDir: flags.rootDir,
    podLogsDir: config.podLogsDir,
    cri: client,
  });
  // cgroupsPerQOS: the driver must match the runtime's (containerd's SystemdCgroup).
  const cgroups = config.cgroupsPerQOS
    ? new PodCgroupManager({
        fs: await detectCgroupFilesystem(),
        cgroupDriver: config.cgroupDriver,
        cgroupRoot: config.cgroupRoot,
        podPidsLimit: config.podPidsLimit,
        cpuCFSQuota: config.cpuCFSQuota,
        cpuCFSQuotaPeriodUs: parseDuration(config.cpuCFSQuotaPeriod) * 1000,
      })
    : undefined;
  // Service links: every Service of the cluster, stripped to what the variables read.
  const services = kubeConfig
    ? new ApiServiceLister(kubeConfig, (error) => logger.warn({ err: String(error) }, 'service watch'))
    : undefined;
  services?.start();
  // Image credential provider plugins (upstream RegisterCredentialProviderPlugins): none without
  // either flag; a bad config or a missing plugin binary stops the kubelet, as upstream.
  const credentialProviders = await imageCredentialProvidersFromFlags(
    { configPath: flags.imageCredentialProviderConfig, binDir: flags.imageCredentialProviderBinDir },
    {
      registry: metrics.registry,
      tokens: core ? apiTokenSource(core) : undefined,
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
  // Pod and node events through one recorder, as upstream's: correlated (repeats bump count),
  // written at most eventRecordQPS a second with eventBurst at once.
  const events = core
    ? apiEventSink(core, {
        nodeName,
        eventRecordQPS: config.eventRecordQPS,
        eventBurst: config.eventBurst,
        onError: (error) => logger.warn({ err: String(error) }, 'Event not recorded'),
      })
    : undefined;
  // containerLog*: upstream's container log manager rotates logs through CRI ReopenContainerLog.
  const logRotation = new ContainerLogManager({
    runtime: client,
    policy: logRotatePolicy(config.containerLogMaxSize, config.containerLogMaxFiles),
    maxWorkers: config.containerLogMaxWorkers,
    monitorIntervalMs: parseDuration(config.containerLogMonitorInterval),
    logger,
  });
  const kubelet = new Kubelet({
    nodeName,
    // The Kubelet wraps it once (image pull limit, pod cgroups); the client counts the CRI calls.
    // Each container it starts is watched for log growth at once (a fast writer outruns a pass).
    runtime: criPodRuntime(
      reportingContainerStarts(client, (id) => {
        logRotation.containerStarted(id).catch((error: unknown) => {
          logger.warn({ containerId: id, err: String(error) }, 'Cannot watch the container log');
        });
      }),
    ),
    config: { ...config, maxPods: podCapacity(config, cpus().length) },
    rootDir: flags.rootDir,
    hostIPs,
    memoryCapacity: totalmem(),
    // hostUsers: false pods get ID ranges cut from the kubelet's (/etc/subuid) by idsPerPod; a
    // setting that cannot work stops the kubelet, as upstream's user namespace manager does.
    userNamespaces: await UserNamespaceAllocator.create({
      idsPerPod: config.userNamespaces?.idsPerPod,
      kubeletMapping: await readKubeletIdMapping(),
      maxPods: podCapacity(config, cpus().length),
      podsDir: join(flags.rootDir, 'pods'),
    }),
    // memorySwap: each container's swap limit follows the cgroup version and swap controller.
    nodeSwap: await detectNodeSwap((await detectCgroupFilesystem()).version),
    objects: core ? apiObjectSource(core) : undefined,
    services,
    tokens: core ? apiTokenSource(core) : undefined,
    credentialProviders,
    imagePullManager,
    statusWriter: core ? apiPodStatusWriter(core) : undefined,
    recordEvent: events?.pod,
    recordNodeEvent: events?.node,
    // runtimeClassName: the RuntimeClass's handler goes to CRI RunPodSandbox.
    runtimeHandler: kubeConfig ? runtimeClassHandlerLookup(apiRuntimeClassGetter(kubeConfig)) : undefined,
    hostResolvConf,
    logger,
    metrics,
    stats: summary,
    images: criImageService(client),
    imageFs: () => summary.imageFs(),
    cgroups,
  });
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
  await kubelet.start();
  // enforceNodeAllocatable "pods": the kubepods cgroup (made by start) capped at allocatable.
  if (cgroups) {
    await enforcePodsAllocatable(config);
    // Upstream's container manager, once the kubepods cgroup's limits are set at start.
    events?.node('Normal', 'NodeAllocatableEnforced', nodeAllocatableEnforcedMessage);
  }
  logRotation.start();
  const stops: (() => Promise<void> | void)[] = [() => logRotation.stop()];
  if (services) stops.push(() => services.stop());

  // Static pods first and independent of the API server (upstream runs them from the first
  // moment: the control plane itself may be static pods). Their mirror pods follow once the
  // API server answers and the Node exists; their status goes out then.
  const mirrorPods = core
    ? new MirrorPodSync({
        core,
        nodeName,
        onCreated: (pods) => kubelet.resyncPods(pods),
        onError: (error) => logger.warn({ err: String(error) }, 'mirror pods'),
      })
    : undefined;
  if (mirrorPods) stops.push(() => mirrorPods.stop());
  // Each static source hands its full set; the mirror pods follow the union of both.
  const staticPods = { file: [] as Pod[], http: [] as Pod[] };
  const setStaticPods = (source: 'file' | 'http', pods: Pod[]) => {
    staticPods[source] = pods;
    kubelet.setPods(pods, isPodFromSource(source));
    mirrorPods?.setStaticPods([...staticPods.file, ...staticPods.http]);
  };
  if (config.staticPodPath) {
    const source = new StaticPodSource({
      dir: config.staticPodPath,
      nodeName,
      checkFrequencyMs: parseDuration(config.fileCheckFrequency),
      onPods: (pods) => setStaticPods('file', pods),
      onError: ({ file, error }) =>
        logger.warn({ file }, `Could not process manifest file: ${error.message}`),
    });
    await source.start();
    stops.push(() => source.stop());
  }
  if (config.staticPodURL) {
    const source = new HttpPodSource({
      url: config.staticPodURL,
      headers: config.staticPodURLHeader,
      nodeName,
      checkFrequencyMs: parseDuration(config.httpCheckFrequency),
      onPods: (pods) => setStaticPods('http', pods),
      // Upstream logs the first three failures, then only at verbosity 4.
      onError: (error, failures) => {
        if (failures <= 3)
          logger.info(
            { err: error.message },
            failures === 3
              ? 'Failed to read pods from URL. Dropping verbosity of this message to V(4)'
              : 'Failed to read pods from URL',
          );
      },
      onRecovered: () => logger.info({}, 'Successfully read pods from URL'),
    });
    logger.info({ URL: config.staticPodURL }, 'Watching URL');
    await source.start();
    stops.push(() => source.stop());
  }

  let reporter: NodeStatusReporter | undefined;
  if (kubeConfig && config.registerNode) {
    reporter = new NodeStatusReporter({
      kubeConfig,
      config: {
        nodeName,
        nodeIPs: hostIPs,
        nodeLabels: flags.nodeLabels,
        ...nodeRegistrationSettings(config, flags),
        nodeStatusMaxImages: config.nodeStatusMaxImages,
        nodeStatusUpdateFrequency: config.nodeStatusUpdateFrequency,
        nodeStatusReportFrequency: config.nodeStatusReportFrequency,
        nodeLeaseDurationSeconds: config.nodeLeaseDurationSeconds,
        port: config.port,
        featureGates: config.featureGates,
        rootDir: flags.rootDir,
      },
      // status.images: CRI ListImages, largest first, up to nodeStatusMaxImages.
      images: async () => nodeImagesFromCri((await client.listImages({})).images),
      // Downward API limits.* of containers without limits resolve to the allocatable reported.
      // The first status follows registration: the Node exists, mirror pods can be created.
      onStatusUpdate: (status) => {
        kubelet.setNodeAllocatable(status.allocatable);
        mirrorPods?.trigger();
      },
      runtimeVersion: async () => {
        const version = await client.version();
        return { runtimeName: version.runtimeName, runtimeVersion: version.runtimeVersion };
      },
      pressure: () => kubelet.housekeeping.pressure(),
      readyChecks: [
        {
          name: 'pleg',
          check: () => {
            const health = kubelet.healthz();
            return health.ok ? undefined : health.message;
          },
        },
      ],
      // Node conditions set or changed: upstream's Normal 'Node <name> status is now: <reason>'.
      onConditionEvent: (reason) => events?.node('Normal', reason, nodeStatusEventMessage(nodeName, reason)),
      onError: (error, during) => logger.warn({ during, err: String(error) }, 'node status'),
    });
    // Registration retries until the API server answers; nothing else waits for it.
    void reporter.start().catch((error) => logger.error({ err: String(error) }, 'node status'));
    stops.push(() => reporter?.stop());
  }

  if (kubeConfig) {
    const source = new ApiPodSource(
      kubeConfig,
      nodeName,
      {
        add: (pod) => kubelet.addPod(pod),
        update: (pod) => kubelet.updatePod(pod),
        remove: (pod) => kubelet.removePod(pod),
      },
      (error) => logger.warn({ err: String(error) }, 'pod watch'),
    );
    // API pods arrive when the informer has listed; nothing waits for that here.
    void source.start().catch((error) => logger.warn({ err: String(error) }, 'pod watch'));
    stops.push(() => source.stop());
  }

  const servers: RunningServer[] = [];
  if (config.healthzPort > 0)
    servers.push(await listen(createHealthzServer(kubelet), config.healthzPort, config.healthzBindAddress));
  if (config.readOnlyPort > 0) {
    const readOnly = createReadOnlyServer({ kubelet, nodeName, podLogsDir: config.podLogsDir, summary });
    servers.push(await listen(readOnly, config.readOnlyPort, config.address));
  }
  let serverPort: number | undefined;
  if (config.enableServer) {
    const tls =
      certificates.servingTls() ??
      (config.tlsCertFile && config.tlsPrivateKeyFile
        ? { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsPrivateKeyFile) }
        : await selfSignedCertificate(nodeName, hostIPs));
    const clientCA = config.authentication.x509.clientCAFile
      ? await readFile(config.authentication.x509.clientCAFile)
      : undefined;
    const server = await listen(
      createKubeletServer({
        kubelet,
        nodeName,
        podLogsDir: config.podLogsDir,
        summary,
        logger,
        streaming: criStreamingRuntime(client),
        tls: { ...tls, ca: clientCA },
        authenticate: kubeletAuthenticator({
          x509: clientCA !== undefined,
          anonymous: config.authentication.anonymous.enabled,
          tokenReview: config.authentication.webhook.enabled
            ? kubeConfig && authenticationV1Requests(kubeConfig)
            : undefined,
        }),
        authorize:
          config.authorization.mode === 'AlwaysAllow' || !kubeConfig
            ? alwaysAllow
            : subjectAccessReviewAuthorizer(authorizationV1Requests(kubeConfig)),
      }),
      config.port,
      config.address,
    );
    servers.push(server);
    certificates.attachServer(server.server);
    serverPort = server.port;
  }

  logger.info(
    { nodeName, hostIPs, endpoint: config.containerRuntimeEndpoint, standalone: !kubeConfig },
    'kubelet started',
  );
  return {
    kubelet,
    nodeName,
    serverPort,
    async stop() {
      certificates.stop();
      for (const stop of stops.reverse()) await stop();
      for (const server of servers) await server.close();
      await kubelet.stop();
      client.close();
    },
  };
}
