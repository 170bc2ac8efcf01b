import type { KubeConfig } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import { isMirrorPod } from '../api/config-source';
import type { Pod } from '../api/pod-types';
import type { MirrorPods } from '../pod/mirror-pods';

/**
 * Where {@link ApiPodSource} delivers this node's pods: mirror pods never go to add, update or
 * remove (they are not run), only to `mirrorPods`.
 */
export interface ApiPodSourceHandlers {
  /** A pod was bound to this node, or was there at the first list. */
  add(pod: Pod): void;
  /** A pod changed; a graceful delete arrives here as a set deletionTimestamp. */
  update(pod: Pod): void;
  /** A pod left the API server (deleted for good, or no longer bound to this node). */
  remove(pod: Pod): void;
  /**
   * Where mirror pods go as they are listed, change and leave (e.g. `Kubelet.mirrorPods`, which
   * reconciles each static pod's status against its mirror pod's); without it they are dropped.
   */
  mirrorPods?: Pick<MirrorPods, 'set' | 'remove'>;
}

/**
 * The API pod source: an informer on pods with fieldSelector spec.nodeName=<node>, feeding
 * additions, updates (including deletionTimestamp) and removals to the kubelet.
 */
export class ApiPodSource {
  /** Holds the pods as the watch delivers them: JSON, whose times are strings, as Pod declares them. */
  readonly informer: Informer<Pod>;

  constructor(
    kubeConfig: KubeConfig,
    nodeName: string,
    handlers: ApiPodSourceHandlers,
    onError?: (error: unknown) => void,
  ) {
    this.informer = new Informer<Pod>({
      kubeConfig,
      resource: { apiVersion: 'v1', plural: 'pods' },
      fieldSelector: `spec.nodeName=${nodeName}`,
      onError,
    });
    this.informer.onAdd((pod) => {
      if (isMirrorPod(pod)) handlers.mirrorPods?.set(pod);
      else handlers.add(pod);
    });
    this.informer.onUpdate((_old, pod) => {
      if (isMirrorPod(pod)) handlers.mirrorPods?.set(pod);
      else handlers.update(pod);
    });
    this.informer.onDelete((pod) => {
      if (isMirrorPod(pod)) handlers.mirrorPods?.remove(pod);
      else handlers.remove(pod);
    });
  }

  /**
   * Starts the watch and resolves once the first list was delivered to the handlers. Rejects with
   * the informer's InformerStoppedError if {@link stop} is called before that.
   */
  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  /** Stops the watch and the informer behind it. */
  async stop(): Promise<void> {
    await this.informer.stop();
  }
}
