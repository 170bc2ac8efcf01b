import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { coreV1Requests } from '@nodeagent/informer';
import {
  ApiPodSource,
  ApiServiceLister,
  apiEventSink,
  apiPodStatusWriter,
  apiTokenSource,
  criPodRuntime,
  Kubelet,
  type KubeletConfiguration,
  nodeStatusEventMessage,
  PodObjectManager,
} from '@nodeagent/kubelet';
import { admissionNodeOf } from '@nodeagent/kubelet/admission';
import { contentTypeIsProtobuf } from '@nodeagent/kubelet/config';
import { objectTtlFromNode } from '@nodeagent/kubelet/sources';
import { defaultLabels, NodeStatusReporter, nodeImagesFromCri } from '@nodeagent/node-status';
import { goArch, parseDuration } from '@nodeagent/primitives';
import type { HollowLogger } from './hollow-logger';
import { hollowMounter } from './hollow-mounter';
import type { HollowRuntime } from './hollow-runtime';
import type { SharedMachine } from './shared-machine';

/** What one node's kubelet half is built from. */
export interface HollowKubeletParts {
  nodeName: string;
  hostIP: string;
  /** The node's own view of the API server (its user agent, its connections). */
  kubeConfig: KubeConfig;
  config: KubeletConfiguration;
  /** This node's --root-dir (pods' volumes and checkpoints). */
  rootDir: string;
  runtime: HollowRuntime;
  machine: SharedMachine;
  logger: HollowLogger;
}

/** One node's running kubelet half. */
export interface HollowKubelet {
  kubelet: Kubelet;
  reporter: NodeStatusReporter;
  stop(): Promise<void>;
}

/** The engine as apps/kubelet builds it, on the node's fake runtime, with the API-backed seams. */
async function buildKubelet(
  p: HollowKubeletParts,
  services: ApiServiceLister,
  watchedNode: () => Parameters<typeof admissionNodeOf>[0] & Parameters<typeof objectTtlFromNode>[0],
) {
  const core = coreV1Requests(p.kubeConfig);
  const events = apiEventSink(core, {
    nodeName: p.nodeName,
    eventRecordQPS: p.config.eventRecordQPS,
    eventBurst: p.config.eventBurst,
    onError: (error, failure) => p.logger.error(error === undefined ? {} : { err: String(error) }, failure),
  });
  // The configuration's strategy (Watch by default): one watch per referenced ConfigMap and Secret.
  const objects = new PodObjectManager({
    strategy: p.config.configMapAndSecretChangeDetectionStrategy,
    kubeConfig: p.kubeConfig,
    core,
    resyncIntervalMs: parseDuration(p.config.syncFrequency),
    // Cache: the TTL the Node's annotation sets, as the node status's watch has it.
    nodeTtlMs: () => objectTtlFromNode(watchedNode()),
    onError: (error) => p.logger.warn({ err: String(error) }, 'configmap/secret watch'),
  });
  const kubelet = new Kubelet({
    node: {
      name: p.nodeName,
      rootDir: p.rootDir,
      hostIPs: [p.hostIP],
      memoryCapacity: (await p.machine.hostInfo()).memoryCapacityBytes,
      hostResolvConf: '',
      // The Node as it registers (the hollow kubelet's labels and taints), for admission until the API's is known.
      labels: defaultLabels({ hostname: p.nodeName }, 'linux', goArch()),
      taints: p.config.registerWithTaints,
    },
    runtime: criPodRuntime(p.runtime.client),
    config: p.config,
    api: {
      node: () => admissionNodeOf(watchedNode()),
      objects,
      services,
      tokens: apiTokenSource(core),
      statusWriter: apiPodStatusWriter(core),
      recordEvent: events.pod,
      recordNodeEvent: events.node,
      podEventMemory: events,
    },
    mounter: hollowMounter(),
    logger: p.logger,
  });
  return { kubelet, events, objects };
}

/** Registration, status and the Lease, as apps/kubelet's node-status wiring does it. */
function nodeStatusReporter(
  p: HollowKubeletParts,
  kubelet: Kubelet,
  recordNodeEvent: ReturnType<typeof apiEventSink>['node'],
) {
  const { config, nodeName, runtime } = p;
  return new NodeStatusReporter({
    kubeConfig: p.kubeConfig,
    config: {
      nodeName,
      nodeIPs: [p.hostIP],
      registerWithTaints: config.registerWithTaints,
      maxPods: config.maxPods,
      podsPerCore: config.podsPerCore,
      kubeReserved: config.kubeReserved,
      systemReserved: config.systemReserved,
      evictionHard: config.evictionHard,
      nodeStatusMaxImages: config.nodeStatusMaxImages,
      nodeStatusUpdateFrequency: config.nodeStatusUpdateFrequency,
      nodeStatusReportFrequency: config.nodeStatusReportFrequency,
      nodeLeaseDurationSeconds: config.nodeLeaseDurationSeconds,
      port: config.port,
      featureGates: config.featureGates,
      rootDir: p.rootDir,
    },
    machineInfo: () => p.machine.forNode(nodeName),
    images: async () => nodeImagesFromCri((await runtime.client.listImages({})).images),
    onStatusUpdate: (status) => kubelet.setNodeAllocatable(status.allocatable),
    runtimeVersion: async () => {
      const version = await runtime.client.version();
      return { runtimeName: version.runtimeName, runtimeVersion: version.runtimeVersion };
    },
    pressure: () => kubelet.housekeeping.pressure(),
    readyChecks: [
      {
        name: 'pleg',
        check: () => {
          const h = kubelet.healthz();
          return h.ok ? undefined : h.message;
        },
      },
    ],
    onConditionEvent: (reason) => recordNodeEvent('Normal', reason, nodeStatusEventMessage(nodeName, reason)),
    onError: (error, during) => p.logger.warn({ during, err: String(error) }, 'node status'),
  });
}

/**
 * Starts one node's kubelet half: the engine on the node's fake runtime, the Node's registration,
 * status and Lease, its pods from the API server (spec.nodeName), and the Service watch the
 * engine's service links read, each with the node's own client and watches.
 */
export async function startHollowKubelet(p: HollowKubeletParts): Promise<HollowKubelet> {
  const onWatchError = (what: string) => (error: unknown) => p.logger.warn({ err: String(error) }, what);
  const services = new ApiServiceLister(p.kubeConfig, {
    onError: onWatchError('service watch'),
    protobuf: contentTypeIsProtobuf(p.config.contentType),
  });
  services.start();
  let watchedNode: () => Parameters<typeof admissionNodeOf>[0] & Parameters<typeof objectTtlFromNode>[0] =
    () => undefined;
  const { kubelet, events, objects } = await buildKubelet(p, services, () => watchedNode());
  await kubelet.start();
  const reporter = nodeStatusReporter(p, kubelet, events.node);
  watchedNode = () => reporter.watchedNode;
  void reporter.start().catch(onWatchError('node status'));
  const source = new ApiPodSource(
    p.kubeConfig,
    p.nodeName,
    {
      add: (pod) => kubelet.addPod(pod),
      update: (pod) => kubelet.updatePod(pod),
      remove: (pod) => kubelet.removePod(pod),
      mirrorPods: kubelet.mirrorPods,
    },
    onWatchError('pod watch'),
  );
  void source.start().catch(onWatchError('pod watch'));
  return {
    kubelet,
    reporter,
    async stop() {
      await source.stop();
      await reporter.stop();
      await services.stop();
      await kubelet.stop();
      await objects.stop();
    },
  };
}

/** The node's --root-dir under the run's directory. */
export function nodeRootDir(runDir: string, nodeName: string): string {
  return join(runDir, nodeName);
}
