import { isStaticPod } from '../api/config-source';
import type { Pod } from '../api/pod-types';
import type { MirrorPods } from '../pod/mirror-pods';

/** Why a pod was stopped by the kubelet: the reason and message its status carries. */
export interface PodStopReason {
  reason: string;
  message: string;
  /**
   * An eviction's final status gets a DisruptionTarget condition unless this is false (upstream's
   * evictions for local storage limits carry none).
   */
  disruptionTarget?: boolean;
}

/** Why admission refused a pod: the reason and message its status and Warning event carry. */
export type PodRejection = PodStopReason;

/**
 * What the syncs read of the kubelet's pod state: the pod as its source last gave it and the
 * verdicts the kubelet reached about it (admission, eviction, removal from its source).
 */
export interface PodStateReader {
  /** The pod `uid` as its source last gave it; undefined once its cleanup is done. */
  pod(uid: string): Pod | undefined;
  /** Admission's refusal of the pod, if it was refused (upstream rejectPod). */
  rejection(uid: string): PodRejection | undefined;
  /** The eviction manager's reason for stopping the pod, if it evicted it. */
  eviction(uid: string): PodStopReason | undefined;
  /** Whether the pod left its source (not deleted through the API): no API delete for it. */
  wasRemoved(uid: string): boolean;
}

/** The pod start SLI's record of a pod (see observePodStart). */
export interface PodStartTimes {
  /** When the pod was first seen, if it has not been reported running since. */
  firstSeen(uid: string): number | undefined;
  /** The pod runs: its first-seen time is no longer needed. */
  startRunning(uid: string): void;
  /** Records that the pod's start SLI was observed; false when it had been already. */
  markStartObserved(uid: string): boolean;
}

/**
 * The kubelet's pod state, one entry per pod UID from the pod's arrival until its cleanup is done
 * (upstream keeps it in the pod manager and the kubelet's own maps): the pod, its admission
 * refusal, its eviction, its removal from the source, and the pod start SLI's first-seen time.
 * The last status written is the status manager's (status/), not kept twice here.
 */
export class PodStateStore implements PodStateReader, PodStartTimes {
  private readonly pods = new Map<string, Pod>();
  private readonly removed = new Set<string>();
  private readonly rejections = new Map<string, PodRejection>();
  private readonly evictions = new Map<string, PodStopReason>();
  /** When each pod was first seen, until it runs (upstream kubelet_pod_start_duration_seconds). */
  private readonly firstSeenAt = new Map<string, number>();
  /** Pods whose start SLI (creation → every container running) has been observed. */
  private readonly startObserved = new Set<string>();

  constructor(private readonly mirrorPods: MirrorPods) {}

  pod(uid: string): Pod | undefined {
    return this.pods.get(uid);
  }

  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** Every pod held: from the sources, refused and terminated ones too until their cleanup is done. */
  all(): Pod[] {
    return [...this.pods.values()];
  }

  uids(): IterableIterator<string> {
    return this.pods.keys();
  }

  entries(): IterableIterator<[string, Pod]> {
    return this.pods.entries();
  }

  /**
   * Holds `pod` as its source gave it now; a pod not held before is first seen at `now`.
   * Returns the version held before, if any.
   */
  set(pod: Pod, now: number): Pod | undefined {
    const uid = pod.metadata.uid ?? '';
    const before = this.pods.get(uid);
    if (!before) this.firstSeenAt.set(uid, now);
    this.pods.set(uid, pod);
    return before;
  }

  markRemoved(uid: string): void {
    this.removed.add(uid);
  }

  wasRemoved(uid: string): boolean {
    return this.removed.has(uid);
  }

  reject(uid: string, rejection: PodRejection): void {
    this.rejections.set(uid, rejection);
  }

  rejection(uid: string): PodRejection | undefined {
    return this.rejections.get(uid);
  }

  evict(uid: string, reason: PodStopReason): void {
    this.evictions.set(uid, reason);
  }

  eviction(uid: string): PodStopReason | undefined {
    return this.evictions.get(uid);
  }

  /**
   * The API's copy the status reconcile compares with: a pod from the API source as its last
   * update showed it; for a static pod its mirror pod as the API source last showed it (upstream
   * needsReconcile's GetMirrorPodByPod), none while it has no mirror pod of its hash. An arrow, so
   * the status manager can hold it as its `apiPodOf`.
   */
  readonly apiPodOf = (uid: string): Pod | undefined => {
    const pod = this.pods.get(uid);
    if (!pod || this.removed.has(uid)) return undefined;
    return isStaticPod(pod) ? this.mirrorPods.of(pod) : pod;
  };

  firstSeen(uid: string): number | undefined {
    return this.firstSeenAt.get(uid);
  }

  startRunning(uid: string): void {
    this.firstSeenAt.delete(uid);
  }

  markStartObserved(uid: string): boolean {
    if (this.startObserved.has(uid)) return false;
    this.startObserved.add(uid);
    return true;
  }

  /** Forgets everything held about the pod (its cleanup is done). */
  forget(uid: string): void {
    this.pods.delete(uid);
    this.firstSeenAt.delete(uid);
    this.removed.delete(uid);
    this.rejections.delete(uid);
    this.evictions.delete(uid);
    this.startObserved.delete(uid);
  }
}
