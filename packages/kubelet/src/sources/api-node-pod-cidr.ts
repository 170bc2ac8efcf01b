import type { KubeConfig } from '@kubernetes/client-node';
import { Informer, type InformerObject } from '@nodeagent/informer';
import type { Clock } from '@nodeagent/primitives';
import { everyOn } from '../clock-timers';

/** The kubelet's own Node as this source keeps it: its identity and the pod CIDRs of its spec. */
export interface WireNodePodCidrs extends InformerObject {
  /** The IPAM controller's (or the operator's) ranges for this node's pods. */
  spec?: { podCIDRs?: string[] };
}

/** Keeps the Node's identity and spec.podCIDRs only: its status (images, conditions) is not read here. */
export function stripNodeToPodCidrs(node: WireNodePodCidrs): WireNodePodCidrs {
  const { name, resourceVersion, uid } = node.metadata ?? {};
  return { metadata: { name, resourceVersion, uid }, spec: { podCIDRs: node.spec?.podCIDRs } };
}

/** What an ApiNodePodCidrSource watches and whom it tells. */
export interface ApiNodePodCidrSourceOptions {
  /** The API server (the kubelet's main client). */
  kubeConfig: KubeConfig;
  /** This kubelet's Node, the only one watched. */
  nodeName: string;
  /**
   * Called with the Node as last seen: when it is listed or changes, and every `resyncMs`
   * (upstream's node status update, which hands the runtime the pod CIDR again after a failure).
   */
  onNode: (node: WireNodePodCidrs) => void;
  /** nodeStatusUpdateFrequency, in ms. */
  resyncMs: number;
  /** The clock the resync runs on. */
  clock: Clock;
  /** Each failed list or watch (they are retried). */
  onError?: (error: unknown) => void;
}

/**
 * The kubelet's own Node (upstream's node informer: field selector metadata.name=<node>),
 * reduced to its pod CIDRs, for the runtime's pod CIDR (sync/runtime-pod-cidr.ts). Upstream
 * reads the Node at each node status update (every nodeStatusUpdateFrequency) and hands the
 * runtime spec.podCIDRs when they differ from what it has; here a change is handed on as it
 * arrives, and the last Node again every `resyncMs`, which retries a CIDR the runtime refused
 * as upstream's next status update does. No request is made for the resync: the informer's copy
 * is read.
 */
export class ApiNodePodCidrSource {
  readonly informer: Informer<WireNodePodCidrs>;
  private stopResync: (() => void) | undefined;

  constructor(private readonly options: ApiNodePodCidrSourceOptions) {
    this.informer = new Informer<WireNodePodCidrs>({
      kubeConfig: options.kubeConfig,
      resource: { apiVersion: 'v1', plural: 'nodes' },
      fieldSelector: `metadata.name=${options.nodeName}`,
      transform: stripNodeToPodCidrs,
      onError: options.onError,
    });
    this.informer.onAdd((node) => options.onNode(node));
    this.informer.onUpdate((_, node) => options.onNode(node));
  }

  /** Starts the list and watch of the Node and the resync; errors go to `onError`. */
  start(): void {
    this.informer.start();
    this.stopResync = everyOn(this.options.clock, this.options.resyncMs, () => {
      const node = this.informer.list()[0];
      if (node) this.options.onNode(node);
    });
  }

  /** Stops the resync and the watch. */
  async stop(): Promise<void> {
    this.stopResync?.();
    await this.informer.stop();
  }
}
