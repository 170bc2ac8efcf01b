import { isMirrorPod } from '../api/config-source';
import { podName } from '../api/pod-name';
import type { Pod } from '../api/pod-types';
import { isMirrorPodOf } from './mirror-pod';

/**
 * The latest copy of each mirror pod the API server shows for this node, by namespace/name
 * (`podName`: a static pod and its mirror pod share it, their uids differ; upstream pod
 * manager's mirrorPodByFullName). Only held, never run: the kubelet's status of a
 * static pod is reconciled against its mirror pod's.
 */
export class MirrorPods {
  private readonly byFullName = new Map<string, Pod>();

  /** A mirror pod was listed or changed; a pod that is no mirror pod is ignored. */
  set(mirror: Pod): void {
    if (isMirrorPod(mirror)) this.byFullName.set(podName(mirror), mirror);
  }

  /**
   * A mirror pod left the API server. Another uid under the same name is a newer mirror pod
   * (the old one's delete arriving after the new one's add, as after a relist): it stays.
   */
  remove(mirror: Pod): void {
    const key = podName(mirror);
    if (this.byFullName.get(key)?.metadata.uid === mirror.metadata.uid) this.byFullName.delete(key);
  }

  /**
   * The mirror pod of `staticPod` as the API last showed it, or undefined when there is none or
   * the one of its name is not its mirror (another hash, being deleted: see {@link isMirrorPodOf}).
   */
  of(staticPod: Pod): Pod | undefined {
    const mirror = this.byFullName.get(podName(staticPod));
    return mirror && isMirrorPodOf(mirror, staticPod) ? mirror : undefined;
  }

  /** How many mirror pods are held. */
  get size(): number {
    return this.byFullName.size;
  }
}
