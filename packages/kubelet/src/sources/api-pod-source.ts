import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import type { Pod } from '../api/pod-types';
import { configMirrorAnnotation } from '../cri/labels';

/** Where {@link ApiPodSource} delivers this node's pods (mirror pods are never delivered). */
export interface ApiPodSourceHandlers {
  /** A pod was bound to this node, or was there at the first list. */
  add(pod: Pod): void;
  /** A pod changed; a graceful delete arrives here as a set deletionTimestamp. */
  update(pod: Pod): void;
  /** A pod left the API server (deleted for good, or no longer bound to this node). */
  remove(pod: Pod): void;
}

/** Mirror pods are the API's view of static pods; the kubelet never runs them itself. */
export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[configMirrorAnnotation] !== undefined;
}

/**
 * The API pod source: an informer on pods with fieldSelector spec.nodeName=<node>, feeding
 * additions, updates (including deletionTimestamp) and removals to the kubelet.
 */
export class ApiPodSource {
  readonly informer: Informer<KubernetesObject>;

  constructor(
    kubeConfig: KubeConfig,
    nodeName: string,
    handlers: ApiPodSourceHandlers,
    onError?: (error: unknown) => void,
  ) {
    this.informer = new Informer({
      kubeConfig,
      resource: { apiVersion: 'v1', plural: 'pods' },
      fieldSelector: `spec.nodeName=${nodeName}`,
      onError,
    });
    // The wire objects are plain JSON: times are strings, as Pod declares them.
    const asPod = (object: KubernetesObject) => object as unknown as Pod;
    this.informer.onAdd((object) => {
      if (!isMirrorPod(asPod(object))) handlers.add(asPod(object));
    });
    this.informer.onUpdate((_old, object) => {
      if (!isMirrorPod(asPod(object))) handlers.update(asPod(object));
    });
    this.informer.onDelete((object) => {
      if (!isMirrorPod(asPod(object))) handlers.remove(asPod(object));
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
