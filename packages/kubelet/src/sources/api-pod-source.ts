import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '@nodeagent/informer';
import type { Pod } from '../api/pod-types';
import { configMirrorAnnotation } from '../cri/labels';

export interface ApiPodSourceHandlers {
  add(pod: Pod): void;
  update(pod: Pod): void;
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

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }
}
