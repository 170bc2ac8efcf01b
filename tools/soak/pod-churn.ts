import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import type { Wire } from '@nodeagent/primitives';
import { benchPod } from '../../apps/kubelet/bench/kubelet-process';

/** The pods the soak keeps on the kubelet's node. */
export const PODS = 110;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The kubelet's churn: pods deleted and created through the API server, each one's create → Ready timed. */
export class PodChurn {
  private readonly informer: Informer<Wire<V1Pod>>;
  private readonly core: CoreV1Api;
  private readonly created = new Map<string, number>();
  private readonly ready = new Set<string>();
  private readonly present = new Set<string>();
  private latencies: number[] = [];
  private next = 0;
  private oldest = 0;
  errors = 0;

  constructor(
    kc: KubeConfig,
    private readonly node: string,
    private readonly image: string,
    /** Each pod's exec readiness probe period. */
    private readonly probePeriodSeconds: number,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.informer = new Informer<Wire<V1Pod>>({
      kubeConfig: kc,
      resource: { apiVersion: 'v1', plural: 'pods' },
    });
    const seen = (pod: Wire<V1Pod>) => {
      const name = pod.metadata?.name ?? '';
      if (this.ready.has(name)) return;
      if (!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return;
      this.ready.add(name);
      const at = this.created.get(name);
      if (at !== undefined) this.latencies.push(performance.now() - at);
    };
    this.informer.onAdd((pod) => {
      this.present.add(pod.metadata?.name ?? '');
      seen(pod);
    });
    this.informer.onUpdate((_old, pod) => seen(pod));
    this.informer.onDelete((pod) => {
      this.present.delete(pod.metadata?.name ?? '');
      this.ready.delete(pod.metadata?.name ?? '');
    });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  private async create(): Promise<void> {
    const i = this.next++;
    this.created.set(`bench-${i}`, performance.now());
    await this.core.createNamespacedPod({
      namespace: 'default',
      body: benchPod(this.node, this.image, i, true, this.probePeriodSeconds),
    });
  }

  /** Creates the first PODS pods and waits until all are Ready (containerd-bound: minutes on 2 busy cores). */
  async fill(signal: AbortSignal): Promise<void> {
    await Promise.all(Array.from({ length: PODS }, () => this.create()));
    const deadline = performance.now() + 1_200_000;
    while (this.ready.size < PODS) {
      signal.throwIfAborted();
      if (performance.now() > deadline)
        throw new Error(`only ${this.ready.size} of ${PODS} pods Ready after 20 min`);
      await sleep(500);
    }
    this.latencies = [];
  }

  /** One step: the oldest pod deleted, a new one created. */
  step(): void {
    const gone = `bench-${this.oldest++}`;
    this.created.delete(gone);
    this.core.deleteNamespacedPod({ name: gone, namespace: 'default' }).catch(() => this.errors++);
    this.create().catch(() => this.errors++);
  }

  /** Pods the API server has, and of them Ready: whether the kubelet keeps up with the churn. */
  counts(): { present: number; ready: number } {
    return { present: this.present.size, ready: this.ready.size };
  }

  /** The create → Ready latencies (ms) since the last call. */
  take(): number[] {
    const out = this.latencies;
    this.latencies = [];
    return out;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
