import * as grpc from '@grpc/grpc-js';
import {
  type ContainerDevices,
  type ContainerMemory,
  type ContainerResources,
  type PodResources,
  podResourcesV1Service,
} from '@nodeagent/plugin-api/podresources';

/** ContainerDevices as the API answers it. */
export type PodResourcesDevices = ContainerDevices;

/** ContainerResources as the API answers it. */
export type PodResourcesContainer = ContainerResources;

/** PodResources as the API answers it. */
export type PodResourcesPod = PodResources;

type Unary = (
  request: object,
  callback: (error: grpc.ServiceError | null, response?: unknown) => void,
) => void;

/**
 * A client of the kubelet's pod-resources API v1 (what GPU exporters and other monitoring agents
 * run): List, GetAllocatableResources and Get over `<root-dir>/pod-resources/kubelet.sock`.
 */
export class PodResourcesClient {
  private readonly client: grpc.Client;

  constructor(socketPath: string) {
    const Client = grpc.makeGenericClientConstructor(podResourcesV1Service, 'PodResourcesLister');
    this.client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure());
  }

  private call<T>(method: string, request: object): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    return new Promise((resolve, reject) =>
      fn(request, (error, response) => (error ? reject(error) : resolve(response as T))),
    );
  }

  /** List: every pod on the node with its containers' devices and CPUs. */
  async list(): Promise<PodResourcesPod[]> {
    return (await this.call<{ podResources: PodResourcesPod[] }>('List', {})).podResources;
  }

  /** GetAllocatableResources: the devices, CPUs and NUMA memory the node can hand out. */
  getAllocatableResources(): Promise<{
    devices: PodResourcesDevices[];
    cpuIds: number[];
    memory: ContainerMemory[];
  }> {
    return this.call('GetAllocatableResources', {});
  }

  /** Get: one pod's resources. */
  async get(namespace: string, name: string): Promise<PodResourcesPod> {
    return (
      await this.call<{ podResources: PodResourcesPod }>('Get', { podName: name, podNamespace: namespace })
    ).podResources;
  }

  /** Closes the connection to the kubelet's socket. */
  close(): void {
    this.client.close();
  }
}

function containerLines(prefix: string, pod: PodResourcesPod): string[] {
  return pod.containers.flatMap((container) => {
    const head = `${prefix} ${pod.namespace}/${pod.name} container ${container.name}`;
    const lines = [
      ...container.devices.flatMap((d) => d.deviceIds.map((id) => `${head} device ${d.resourceName} ${id}`)),
      ...container.dynamicResources.flatMap((claim) =>
        claim.claimResources.map(
          (r) =>
            `${head} claim ${claim.claimNamespace}/${claim.claimName} driver ${r.driverName} pool ${r.poolName} device ${r.deviceName} cdi ${r.cdiDevices.map((c) => c.name).join(',')}`,
        ),
      ),
    ];
    return lines.length > 0 ? lines : [`${head} none`];
  });
}

/**
 * The answers as the recorded fidelity file writes them (pod-resources-answers.txt): List's pods
 * sorted by namespace/name, one line a device or claim (`none` for a container with neither),
 * the allocatable devices, then each Get.
 */
export function formatPodResourcesAnswers(answers: {
  list: PodResourcesPod[];
  allocatable: { devices: PodResourcesDevices[] };
  gets?: PodResourcesPod[];
}): string[] {
  const byName = (a: PodResourcesPod, b: PodResourcesPod) =>
    `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
  return [
    ...[...answers.list].sort(byName).flatMap((pod) => containerLines('pod', pod)),
    ...answers.allocatable.devices
      .flatMap((d) => d.deviceIds.map((id) => `allocatable device ${d.resourceName} ${id}`))
      .sort(),
    ...(answers.gets ?? []).flatMap((pod) => containerLines('get', pod)),
  ];
}
