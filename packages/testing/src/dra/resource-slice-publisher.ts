import { CoreV1Api, type KubeConfig, ResourceV1Api, type V1ResourceSlice } from '@kubernetes/client-node';

/** One device the driver publishes (a ResourceSlice `spec.devices[]` entry). */
export interface PublishedDevice {
  name: string;
  /** Attributes by (optionally domain-qualified) name: `{ model: { string: 'a100' } }`. */
  attributes?: Record<string, { int?: number; bool?: boolean; string?: string; version?: string }>;
  /** Capacities by name: `{ memory: { value: '40Gi' } }`. */
  capacity?: Record<string, { value: string }>;
}

/**
 * The driver's ResourceSlice for its node, as the kubeletplugin helper publishes it: named
 * `<node>-<driver>-<5 random>` (generateName), one pool named after the node (generation 1, one
 * slice), `spec.nodeName` the node, owned by the Node when it exists (so it goes with the Node).
 */
export class ResourceSlicePublisher {
  private readonly api: ResourceV1Api;
  private readonly core: CoreV1Api;
  private name: string | undefined;
  private generation = 0;

  constructor(
    kubeConfig: KubeConfig,
    private readonly driver: string,
    private readonly nodeName: string,
  ) {
    this.api = kubeConfig.makeApiClient(ResourceV1Api);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The published slice's name, once published. */
  get sliceName(): string | undefined {
    return this.name;
  }

  /**
   * Create the slice, or replace its devices (the pool's generation goes up, as upstream's helper
   * does). A slice of this driver for this node left by an earlier run is taken over (the newest
   * generation kept counting) and any further ones deleted, so a restarted driver never
   * publishes its devices twice.
   */
  async publish(devices: readonly PublishedDevice[]): Promise<V1ResourceSlice> {
    if (!this.name) await this.adopt();
    this.generation++;
    const spec = {
      driver: this.driver,
      nodeName: this.nodeName,
      pool: { name: this.nodeName, generation: this.generation, resourceSliceCount: 1 },
      devices: devices.map((d) => ({ ...d })),
    };
    if (this.name) {
      const current = await this.api.readResourceSlice({ name: this.name });
      return this.api.replaceResourceSlice({
        name: this.name,
        body: { ...current, spec } as V1ResourceSlice,
      });
    }
    const node = await this.core.readNode({ name: this.nodeName }).catch(() => undefined);
    const owner = node?.metadata?.uid
      ? [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: node.metadata.uid, controller: true }]
      : undefined;
    const created = await this.api.createResourceSlice({
      body: {
        apiVersion: 'resource.k8s.io/v1',
        kind: 'ResourceSlice',
        metadata: {
          generateName: `${this.nodeName}-${this.driver}-`,
          ...(owner ? { ownerReferences: owner } : {}),
        },
        spec,
      } as V1ResourceSlice,
    });
    this.name = created.metadata?.name;
    return created;
  }

  private async adopt(): Promise<void> {
    const existing = (
      await this.api.listResourceSlice({
        fieldSelector: `spec.nodeName=${this.nodeName},spec.driver=${this.driver}`,
      })
    ).items.sort((a, b) => (b.spec?.pool?.generation ?? 0) - (a.spec?.pool?.generation ?? 0));
    const [kept, ...extra] = existing;
    if (!kept) return;
    this.name = kept.metadata?.name;
    this.generation = kept.spec?.pool?.generation ?? 0;
    for (const s of extra)
      await this.api
        .deleteResourceSlice({ name: s.metadata?.name as string })
        .catch((e: { code?: number }) => {
          if (e.code !== 404) throw e;
        });
  }

  /** Delete the slice (what the kubelet does for a driver that went away); a missing one is fine. */
  async unpublish(): Promise<void> {
    if (!this.name) return;
    await this.api.deleteResourceSlice({ name: this.name }).catch((e: { code?: number }) => {
      if (e.code !== 404) throw e;
    });
    this.name = undefined;
  }
}
