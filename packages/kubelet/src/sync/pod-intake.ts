import type { Clock } from '@nodeagent/primitives';
import type { Counter } from 'prom-client';
import { recordAdmissionRejection } from '../admission/admission-rejections';
import {
  admitPod,
  type PendingAdmission,
  type PodAdmitHandler,
  type PodAdmitResult,
  unexpectedAdmissionErrorReason,
} from '../admission/admit-handler';
import { isMirrorPod } from '../api/config-source';
import type { Pod } from '../api/pod-types';
import type { MirrorPods } from '../pod/mirror-pods';
import { needsReadinessReconcile, podsDifferSemantically } from '../pod/pod-update-kind';
import { isTerminalPhase } from '../status/pod-phase';
import type { PodWorkers } from '../workers/pod-workers';
import type { PodCleanup } from './pod-cleanup';
import type { PodResizer } from './pod-resizer';
import type { PodStateStore } from './pod-state-store';

/** What pod intake reads and drives: the pod state, admission, the workers and the cleanup. */
export interface PodIntakeOptions {
  pods: PodStateStore;
  /** The API's mirror pods: held (a static pod's status is reconciled against its own), never run. */
  mirrorPods: MirrorPods;
  workers: PodWorkers;
  cleanup: PodCleanup;
  /** Upstream admitHandlers, in order. */
  admitHandlers: readonly PodAdmitHandler[];
  /** Admission's asynchronous end (the device manager's plugin calls); the pod's worker waits for it. */
  pendingAdmission?: PendingAdmission;
  /** Pods are admitted with their allocated resources (the resizer's checkpoint). */
  resizer: PodResizer;
  clock: Clock;
  /** kubelet_admission_rejections_total; none: refusals are not counted. */
  admissionRejections?: Counter<'reason'>;
}

/**
 * Pods as the sources give them (upstream HandlePodAdditions, HandlePodUpdates, HandlePodRemoves):
 * a new pod is admitted or refused, every pod is stored, and its worker is told what changed.
 */
export class PodIntake {
  /** Admitted pods whose admission's asynchronous end has not answered: stored, no worker yet. */
  private readonly awaiting = new Set<string>();

  constructor(private readonly options: PodIntakeOptions) {}

  /** A pod appeared or changed in a source; a mirror pod is only held, never run. */
  add(pod: Pod): void {
    const { pods, workers, cleanup } = this.options;
    if (isMirrorPod(pod)) {
      this.options.mirrorPods.set(pod);
      return;
    }
    const uid = pod.metadata.uid ?? '';
    const known = pods.has(uid);
    const admitting = !known && !pod.metadata.deletionTimestamp && !isTerminalPhase(pod.status?.phase);
    if (admitting) this.admit(pod);
    // A pod not known before is first seen now (the pod start SLI).
    const stored = pods.set(pod, this.options.clock.now());
    if (admitting && this.awaitAdmission(uid)) return;
    // An update of a pod still being admitted is stored; its worker starts with the latest.
    if (this.awaiting.has(uid)) return;
    // Upstream's pod config turns a change of the status alone (the kubelet's own writes, mostly)
    // into a reconcile, not a sync: a pod waiting out a back-off is not synced by its status write.
    if (stored && !podsDifferSemantically(stored, pod) && !needsReadinessReconcile(stored, pod)) return;
    if (workers.isTerminated(uid)) {
      // A finished pod being deleted: its containers are already stopped, only cleanup is left.
      if (pod.metadata.deletionTimestamp) cleanup.inBackground(pod);
      return;
    }
    workers.updatePod({ pod, updateType: known ? 'update' : 'create' });
  }

  /** A pod left its source: stop it now; a mirror pod is forgotten. */
  remove(pod: Pod): void {
    const { pods, workers, cleanup } = this.options;
    if (isMirrorPod(pod)) {
      this.options.mirrorPods.remove(pod);
      return;
    }
    const uid = pod.metadata.uid ?? '';
    const current = pods.pod(uid);
    // A pod the kubelet does not hold: its cleanup is done (the API's delete event of a pod comes
    // after the kubelet deleted it) or it never came. Killing it again would cost runtime lists
    // and a status write for nothing; anything of it still running is an orphan housekeeping stops.
    if (!current) return;
    pods.markRemoved(uid);
    if (workers.isTerminated(uid)) {
      cleanup.inBackground(current);
      return;
    }
    workers.updatePod({ pod: current, updateType: 'kill' });
  }

  /** The full set of pods from one source replaces what that source gave before. */
  set(pods: Pod[], isFromSource: (pod: Pod) => boolean): void {
    const wanted = new Set(pods.map((pod) => pod.metadata.uid ?? ''));
    for (const pod of this.options.pods.all()) {
      if (isFromSource(pod) && !wanted.has(pod.metadata.uid ?? '')) this.remove(pod);
    }
    for (const pod of pods) {
      const existing = this.options.pods.pod(pod.metadata.uid ?? '');
      if (!existing || JSON.stringify(existing) !== JSON.stringify(pod)) this.add(pod);
    }
  }

  /** Syncs pod `uid` again if it is known and still syncing (resync, probe results, resize). */
  resync(uid: string): void {
    const pod = this.options.pods.pod(uid);
    if (pod && this.options.workers.phase(uid) === 'syncing')
      this.options.workers.updatePod({ pod, updateType: 'sync' });
  }

  /**
   * Holds the admitted pod's worker back until admission's asynchronous end answers; a refusal
   * then fails the pod as the synchronous ones do. False when there is nothing to wait for.
   */
  private awaitAdmission(uid: string): boolean {
    const { pods, workers } = this.options;
    const outcome = this.options.pendingAdmission?.admissionOutcome(uid);
    // Refused by a later handler: what the resource managers reserved is settled all the same,
    // so the device manager frees it as it frees any pod's that is not active.
    if (pods.rejection(uid)) return false;
    if (!outcome) return false;
    this.awaiting.add(uid);
    void outcome.then((verdict) => {
      this.awaiting.delete(uid);
      if (!verdict.admit) this.reject(uid, verdict);
      const current = pods.pod(uid);
      // Removed meanwhile: remove() already told the worker.
      if (!current || pods.wasRemoved(uid)) return;
      workers.updatePod({ pod: current, updateType: 'create' });
    });
    return true;
  }

  /** Upstream canAdmitPod: the admit handlers in order; a refused pod never reaches the runtime. */
  private admit(pod: Pod): void {
    const { pods, workers } = this.options;
    const uid = pod.metadata.uid ?? '';
    const otherPods = pods.all().filter((other) => {
      const otherUid = other.metadata.uid ?? '';
      return (
        otherUid !== uid &&
        !pods.rejection(otherUid) &&
        (workers.phase(otherUid) === 'syncing' || this.awaiting.has(otherUid))
      );
    });
    // Upstream admits pods with their allocated resources (the checkpoint survives a restart): a
    // resize still pending must not count for more than the pod holds.
    const allocated = (p: Pod) => this.options.resizer.store.podFromAllocation(p).pod;
    let verdict: PodAdmitResult;
    try {
      verdict = admitPod(this.options.admitHandlers, {
        pod: allocated(pod),
        otherPods: otherPods.map(allocated),
      });
    } catch (error) {
      // A quantity that does not parse (a static pod nothing validated): refused, never a crash.
      verdict = { admit: false, reason: unexpectedAdmissionErrorReason, message: (error as Error).message };
    }
    if (!verdict.admit) this.reject(uid, verdict);
  }

  /** Upstream HandlePodAdditions' rejectPod and recordAdmissionRejection (the status comes from the pod's sync). */
  private reject(uid: string, refusal: { reason: string; message: string }): void {
    this.options.pods.reject(uid, { reason: refusal.reason, message: refusal.message });
    const counter = this.options.admissionRejections;
    if (counter) recordAdmissionRejection(counter, refusal.reason);
  }
}
