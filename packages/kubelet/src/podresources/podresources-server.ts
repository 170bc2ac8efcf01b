import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as GrpcJs from '@grpc/grpc-js';
import { type Clock, systemClock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { Container, Pod } from '../api/pod-types';
import type { CpuManager } from '../cpumanager/cpu-manager';
import type { DeviceInstance, DeviceManager } from '../devicemanager/device-manager';
import type { DraManager } from '../dra/dra-manager';
import type { MemoryManager } from '../memorymanager/memory-manager';
import type { MemoryBlock } from '../memorymanager/memory-state';
import { TokenBucket } from '../token-bucket';
import {
  type ContainerDevicesAnswer,
  type ContainerMemoryAnswer,
  type ContainerResourcesAnswer,
  type DynamicResourceAnswer,
  type PodResourcesAnswer,
  podResourcesDefaultBurstTokens,
  podResourcesDefaultQps,
} from './podresources-api';
import { type PodResourcesMetrics, podResourcesMetrics } from './podresources-metrics';
import { podResourcesListerService } from './podresources-services';

/** @grpc/grpc-js, evaluated when the server starts. */
async function loadGrpcJs(): Promise<typeof GrpcJs> {
  const module = (await import('@grpc/grpc-js')) as typeof GrpcJs & { default?: typeof GrpcJs };
  return module.default ?? module;
}

/** The kubelet's pods as the pod-resources API reads them. */
export interface PodResourcesPods {
  /** Upstream GetActivePods: the pods not in a terminal phase. */
  activePods(): Pod[];
}

/** What a PodResourcesServer answers from. */
export interface PodResourcesServerOptions {
  pods: PodResourcesPods;
  devices: Pick<DeviceManager, 'containerDevices' | 'allocatableDevices'>;
  cpus?: Pick<CpuManager, 'exclusiveCpus' | 'allocatableCpus'>;
  /** The memory manager: containers' memory blocks under the Static policy. */
  memory?: Pick<MemoryManager, 'memory' | 'allocatableMemory'>;
  /** @internal The DRA manager: each container's prepared ResourceClaims (KubeletPodResourcesDynamicResources, GA). */
  dynamicResources?: Pick<DraManager, 'containerClaims'>;
  /** @grpc/grpc-js (default: imported at start). */
  grpc?: typeof GrpcJs;
  /** Default upstream's 100 a second, bursts of 10. */
  qps?: number;
  burst?: number;
  clock?: Pick<Clock, 'now'>;
  registry?: Registry;
}

/** Upstream containerMemoryFromBlock: one entry a block, with its NUMA nodes. */
function memoryAnswers(blocks: readonly MemoryBlock[]): ContainerMemoryAnswer[] {
  return blocks.map((block) => ({
    memoryType: block.type,
    size: block.size,
    topology: { nodes: block.numaAffinity.map((id) => ({ ID: id })) },
  }));
}

/**
 * Upstream containerDevicesFromResourceDeviceInstances: one entry a device, and one a NUMA node
 * for a device on several.
 */
function deviceAnswers(devices: readonly DeviceInstance[]): ContainerDevicesAnswer[] {
  return devices.flatMap((device) =>
    device.numaNodes.length === 0
      ? [{ resourceName: device.resource, deviceIds: [device.id] }]
      : device.numaNodes.map((node) => ({
          resourceName: device.resource,
          deviceIds: [device.id],
          topology: { nodes: [{ ID: node }] },
        })),
  );
}

/**
 * Upstream GetDynamicResources: each claim the container uses, one resource per prepared device
 * with its driver, pool, device and CDI devices. A claim not prepared yet answers nothing.
 */
function dynamicResourceAnswers(
  dra: Pick<DraManager, 'containerClaims'> | undefined,
  pod: Pod,
  container: Container,
): DynamicResourceAnswer[] {
  if (!dra) return [];
  let claims: ReturnType<DraManager['containerClaims']>;
  try {
    claims = dra.containerClaims(pod, container);
  } catch {
    return [];
  }
  return claims.map((claim) => ({
    claimName: claim.claimName,
    claimNamespace: claim.namespace,
    claimResources: [...claim.driverState.keys()].sort().flatMap((driverName) =>
      (claim.driverState.get(driverName) ?? []).map((device) => ({
        cdiDevices: device.cdiDeviceIds.map((name) => ({ name })),
        driverName,
        poolName: device.poolName,
        deviceName: device.deviceName,
      })),
    ),
  }));
}

/** Restartable init containers (sidecars) and the containers, as upstream lists them. */
function listedContainers(pod: Pod): Container[] {
  return [
    ...(pod.spec.initContainers ?? []).filter((container) => container.restartPolicy === 'Always'),
    ...pod.spec.containers,
  ];
}

/**
 * Upstream's pod-resources API v1 server (pkg/kubelet/apis/podresources) on
 * `<root-dir>/pod-resources/kubelet.sock`: List (every active pod's containers with their
 * devices and exclusive CPUs), GetAllocatableResources, and Get (one pod), behind upstream's
 * rate limit (ResourceExhausted "rejected by rate limit" beyond it). Memory is the memory
 * manager's blocks (empty under its None policy, as upstream's); dynamic resources are the DRA
 * manager's prepared claims.
 */
export class PodResourcesServer {
  private server: GrpcJs.Server | undefined;
  private readonly limiter: TokenBucket;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly metrics: PodResourcesMetrics;

  constructor(private readonly options: PodResourcesServerOptions) {
    this.clock = options.clock ?? systemClock;
    this.limiter = new TokenBucket(
      options.qps ?? podResourcesDefaultQps,
      options.burst ?? podResourcesDefaultBurstTokens,
      this.clock.now(),
    );
    this.metrics = podResourcesMetrics(options.registry);
  }

  private containerResources(pod: Pod, container: Container): ContainerResourcesAnswer {
    const uid = pod.metadata.uid ?? '';
    return {
      name: container.name,
      devices: deviceAnswers(this.options.devices.containerDevices(uid, container.name)),
      cpuIds: [...(this.options.cpus?.exclusiveCpus(uid, container.name).list() ?? [])],
      memory: memoryAnswers(this.options.memory?.memory(uid, container.name) ?? []),
      dynamicResources: dynamicResourceAnswers(this.options.dynamicResources, pod, container),
    };
  }

  private podResources(pod: Pod): PodResourcesAnswer {
    return {
      name: pod.metadata.name ?? '',
      namespace: pod.metadata.namespace ?? '',
      containers: listedContainers(pod).map((container) => this.containerResources(pod, container)),
    };
  }

  /** List's answer. */
  list(): { podResources: PodResourcesAnswer[] } {
    return { podResources: this.options.pods.activePods().map((pod) => this.podResources(pod)) };
  }

  /** GetAllocatableResources' answer. */
  allocatable(): { devices: ContainerDevicesAnswer[]; cpuIds: number[]; memory: ContainerMemoryAnswer[] } {
    return {
      devices: deviceAnswers(this.options.devices.allocatableDevices()),
      cpuIds: [...(this.options.cpus?.allocatableCpus().list() ?? [])],
      memory: memoryAnswers(this.options.memory?.allocatableMemory() ?? []),
    };
  }

  /** Get's answer; throws upstream's "pod … not found" for a pod not active here. */
  get(namespace: string, name: string): { podResources: PodResourcesAnswer } {
    const pod = this.options.pods
      .activePods()
      .find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
    if (!pod) throw new Error(`pod ${name} in namespace ${namespace} not found`);
    return { podResources: this.podResources(pod) };
  }

  /** Serves on `socketPath` (a stale socket there is removed first, as upstream's listener does). */
  async start(socketPath: string): Promise<void> {
    const grpc = this.options.grpc ?? (await loadGrpcJs());
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o750 });
    rmSync(socketPath, { force: true });
    const server = new grpc.Server();
    const limited =
      <Req>(count: () => void, answer: (request: Req) => object, onError?: () => void) =>
      (call: GrpcJs.ServerUnaryCall<Req, object>, callback: GrpcJs.sendUnaryData<object>) => {
        if (!this.limiter.tryTake(this.clock.now()))
          return callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'rejected by rate limit' });
        this.metrics.requestsTotal.inc({ server_api_version: 'v1' });
        count();
        try {
          callback(null, answer(call.request));
        } catch (error) {
          onError?.();
          callback({ code: grpc.status.UNKNOWN, details: (error as Error).message });
        }
      };
    const v1 = { server_api_version: 'v1' };
    server.addService(podResourcesListerService(), {
      List: limited(
        () => this.metrics.requestsList.inc(v1),
        () => this.list(),
      ),
      GetAllocatableResources: limited(
        () => this.metrics.requestsGetAllocatable.inc(v1),
        () => this.allocatable(),
      ),
      Get: limited<{ podName: string; podNamespace: string }>(
        () => this.metrics.requestsGet.inc(v1),
        (request) => this.get(request.podNamespace, request.podName),
        () => this.metrics.errorsGet.inc(v1),
      ),
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    this.server = server;
  }

  /** Shuts the gRPC server down at once, dropping open calls. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
