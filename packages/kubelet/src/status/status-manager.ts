import { type Clock, systemClock } from '@nodeagent/primitives';
import type { ContainerStatus, Pod, PodStatus } from '../api/pod-types';
import { everyOn } from '../clock-timers';
import { withContainerReadiness, withContainerStarted } from './container-probe-status';
import { KUBELET_CONDITIONS } from './pod-conditions';
import { isPodStatusByKubeletEqual, normalizePodStatus } from './pod-status-equality';

/** Where pod statuses go: the API server's pods/status subresource. */
export interface PodStatusWriter {
  /** Patches pods/<name>/status; must fail if the object's uid differs. */
  patchStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** Deletes the pod object for good (grace period 0, uid precondition) once it is terminated. */
  deletePod?(pod: Pod): Promise<void>;
}

interface Entry {
  pod: Pod;
  status: PodStatus;
  /** JSON of `status`, serialised once per change (compared with `written`). */
  json: string;
  /** JSON of the last status the API accepted. */
  written: string | undefined;
  writing: Promise<void> | undefined;
  dirty: boolean;
  /** The hold this pod's writes already waited out (each hold delays a pod's write once). */
  heldFor: Promise<void> | undefined;
  /** The next write puts the kubelet's status back over a different one the API shows (reconcile). */
  reconcile: boolean;
  /**
   * resourceVersion of the API's copy of the pod when the last write went out: while the copy is
   * still that one, the write's own echo has not arrived and the copy says nothing new.
   */
  apiVersionAtWrite: string | undefined;
  /**
   * The API copy's resourceVersion and the kubelet's status text (`json`) a reconcile last found
   * equal: while both are the same, the next one need not normalise and compare them again.
   */
  equalVersion: string | undefined;
  equalJson: string | undefined;
}

/**
 * The kubelet's status `last` over the API's `fromApi`, except conditions the kubelet does not
 * own (readiness gates, a client's own types): those stay as the API shows them, as upstream's
 * mergePodStatus takes them from the API's status at each write. A DisruptionTarget the kubelet
 * set itself (eviction) stays until the API shows one.
 */
function mergedWithApi(fromApi: PodStatus | undefined, last: PodStatus): PodStatus {
  if (!last.conditions) return { ...(fromApi ?? {}), ...last };
  const apiConditions = fromApi?.conditions ?? [];
  const kubeletOwned = last.conditions.filter(
    (c) =>
      KUBELET_CONDITIONS.has(c.type) ||
      (c.type === 'DisruptionTarget' && !apiConditions.some((a) => a.type === c.type)),
  );
  const conditions = [...apiConditions.filter((c) => !KUBELET_CONDITIONS.has(c.type)), ...kubeletOwned];
  return { ...(fromApi ?? {}), ...last, conditions };
}

/** Upstream's status manager syncPeriod: how often every pod's API status is checked against the kubelet's. */
export const STATUS_SYNC_PERIOD_MS = 10_000;

/**
 * Longest a pod's API write waits for its hold (a newly started container's first readiness
 * run): past it, Running goes out without the verdict. One default probe period; on a busy node
 * containerd's first ExecSync into a container just started takes seconds.
 */
export const MAX_STATUS_HOLD_MS = 10_000;

/** How a StatusManager writes: where to, what to log, and what may hold a pod's write back. */
export interface StatusManagerOptions {
  /** Where statuses go (the API server); without one (standalone) they are only kept here. */
  writer?: PodStatusWriter;
  /** A write the writer rejected; the status is written again when the next one is set. */
  onError?: (pod: Pod, error: unknown) => void;
  /**
   * What a pod's next API write should wait for, if anything (the kubelet: the first readiness
   * runs of its newly started containers), so one write carries both; at most `maxHoldMs`.
   */
  holdWrite?: (uid: string) => Promise<void> | undefined;
  /** The longest a hold delays a write, in ms; default {@link MAX_STATUS_HOLD_MS}. */
  maxHoldMs?: number;
  /** The clock the hold's limit and the periodic reconcile run on. */
  clock?: Clock;
  /**
   * The pod as the API server last showed it (the kubelet's pod sources; for a static pod its
   * mirror pod), or undefined when unknown (deleted, a static pod without a known mirror pod):
   * such pods are not reconciled, as upstream's needsReconcile skips them.
   */
  apiPodOf?: (uid: string) => Pod | undefined;
  /**
   * A container's status turned Terminated (each termination once: a status set again, or one the
   * API already showed when the kubelet started, is not a new one); the kubelet counts it in
   * kubelet_terminated_containers_total.
   */
  onContainerTerminated?: (termination: ContainerTermination) => void;
}

/** One container termination as kubelet_terminated_containers_total labels it. */
export interface ContainerTermination {
  /** Which list of the pod's status the container is in. */
  containerType: 'container' | 'init_container' | 'ephemeral_container';
  /** The exit code of the terminated state. */
  exitCode: number;
  /** The terminated state's reason (Completed, Error, OOMKilled...), '' when none. */
  reason: string;
}

const statusLists = [
  ['containerStatuses', 'container'],
  ['initContainerStatuses', 'init_container'],
  ['ephemeralContainerStatuses', 'ephemeral_container'],
] as const;

/** What tells one termination from another of the same container: its container id, else its fields. */
function terminationKey(status: ContainerStatus | undefined): string | undefined {
  const terminated = status?.state.terminated;
  if (!terminated) return undefined;
  return (
    terminated.containerID ||
    `${terminated.exitCode}/${terminated.reason ?? ''}/${terminated.finishedAt ?? ''}/${status?.containerID ?? ''}`
  );
}

/**
 * The terminations `next` shows that `previous` did not: containers whose state is Terminated now
 * and was not, or was for another run (upstream v1.36 counts transitions into Terminated once).
 */
function newTerminations(previous: PodStatus | undefined, next: PodStatus): ContainerTermination[] {
  const found: ContainerTermination[] = [];
  for (const [list, containerType] of statusLists) {
    for (const status of next[list] ?? []) {
      const key = terminationKey(status);
      if (key === undefined) continue;
      const before = previous?.[list]?.find((s) => s.name === status.name);
      if (terminationKey(before) === key) continue;
      const terminated = status.state.terminated;
      found.push({ containerType, exitCode: terminated?.exitCode ?? 0, reason: terminated?.reason ?? '' });
    }
  }
  return found;
}

/**
 * Upstream status manager: remembers each pod's latest generated status and writes it to the API
 * server only when it changed (compared with what was last written), one write at a time per
 * pod, the newest status winning.
 */
export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly writer: PodStatusWriter | undefined;
  private readonly onError: (pod: Pod, error: unknown) => void;
  private readonly options: StatusManagerOptions;
  /** Number of API writes done (for tests and metrics). */
  writes = 0;

  constructor(options: StatusManagerOptions = {}) {
    this.options = options;
    this.writer = options.writer;
    this.onError = options.onError ?? (() => {});
  }

  /** The latest status set for pod `uid` (written to the API or not yet), undefined if none. */
  getPodStatus(uid: string): PodStatus | undefined {
    return this.entries.get(uid)?.status;
  }

  /**
   * The pod as last reported: its spec with the status held here over the status it came with,
   * except conditions the kubelet does not own (readiness gates, a client's own types): those
   * come from the pod as the API last showed it (`apiPodOf`: for a static pod its mirror pod),
   * as upstream's mergePodStatus takes them from the API's status at each write, so the kubelet
   * never writes back a stale or dropped copy. Before any status is held here, the API's status
   * is the pod's (upstream's updateStatusInternal starts a static pod from its mirror pod's). A
   * DisruptionTarget the kubelet set itself (eviction) stays until the API shows it.
   */
  withLastStatus(pod: Pod): Pod {
    const uid = pod.metadata.uid ?? '';
    const fromApi = this.options.apiPodOf?.(uid)?.status ?? pod.status;
    const last = this.getPodStatus(uid);
    if (last) return { ...pod, status: mergedWithApi(fromApi, last) };
    return fromApi === pod.status ? pod : { ...pod, status: fromApi };
  }

  /**
   * Records `status` as pod's newest and, when it differs from what the API last accepted, queues
   * a write (one at a time per pod; a failed write goes to onError and is retried when a status is next set).
   */
  setPodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? '';
    let entry = this.entries.get(uid);
    const onTerminated = this.options.onContainerTerminated;
    if (onTerminated) {
      // Before any status is held here, what the API shows is the previous one (as withLastStatus).
      const previous = entry ? entry.status : (this.options.apiPodOf?.(uid)?.status ?? pod.status);
      for (const termination of newTerminations(previous, status)) onTerminated(termination);
    }
    if (!entry) {
      entry = {
        pod,
        status,
        json: '',
        written: pod.status ? JSON.stringify(pod.status) : undefined,
        writing: undefined,
        dirty: false,
        heldFor: undefined,
        reconcile: false,
        apiVersionAtWrite: undefined,
        equalVersion: undefined,
        equalJson: undefined,
      };
      this.entries.set(uid, entry);
    }
    entry.pod = pod;
    entry.status = status;
    entry.json = JSON.stringify(status);
    if (entry.json === entry.written) return;
    entry.dirty = true;
    this.kick(entry);
  }

  /**
   * A probe result changed (upstream syncLoopIteration: readinessManager updates go to
   * SetContainerReadiness, startupManager updates to SetContainerStartup): the pod's last status
   * gets the container's ready/started flag (and, for readiness, the Ready and ContainersReady
   * conditions) and goes out now, without waiting for the pod's next sync. Liveness results
   * change nothing in the status.
   */
  applyProbeResult(
    update: { probeType: string; podUID: string; containerId: string; result: string },
    now: number,
  ): void {
    const entry = this.entries.get(update.podUID);
    if (!entry) return;
    const status =
      update.probeType === 'Readiness'
        ? withContainerReadiness(
            entry.pod,
            entry.status,
            update.containerId,
            update.result === 'Success',
            now,
          )
        : update.probeType === 'Startup'
          ? withContainerStarted(entry.status, update.containerId, update.result === 'Success')
          : undefined;
    if (status) this.setPodStatus(entry.pod, status);
  }

  /**
   * Starts the periodic reconcile (upstream syncBatch(all) every 10 s, `STATUS_SYNC_PERIOD_MS`, on
   * the clock); returns its stop. Without a writer there is nothing to reconcile.
   */
  startReconcile(): () => void {
    if (!this.writer) return () => {};
    return everyOn(this.options.clock ?? systemClock, STATUS_SYNC_PERIOD_MS, () => this.reconcile());
  }

  /**
   * Upstream needsReconcile over every pod: where the API's copy of a pod's status differs from
   * the kubelet's (normalised, kubelet-owned fields and conditions only), the kubelet's is written
   * again, merged with what others own in the API's copy. Pods with a write queued, without a
   * copy from the API server, or whose copy predates the last write (its echo not seen yet) are
   * skipped, so a steady pod costs no write and a write never answers its own echo; a failed
   * write is tried again at the next reconcile.
   */
  reconcile(): void {
    if (!this.writer || !this.options.apiPodOf) return;
    for (const [uid, entry] of this.entries) {
      if (entry.writing || entry.dirty) continue;
      const api = this.options.apiPodOf(uid);
      // Without a resourceVersion the copy never came from the API server (a test's or a
      // standalone pod): nothing to reconcile with.
      const version = api?.metadata.resourceVersion;
      if (!api || version === undefined || version === entry.apiVersionAtWrite) continue;
      if (version === entry.equalVersion && entry.json === entry.equalJson) continue;
      const merged = mergedWithApi(api.status, entry.status);
      if (
        isPodStatusByKubeletEqual(normalizePodStatus(api, api.status ?? {}), normalizePodStatus(api, merged))
      ) {
        entry.equalVersion = version;
        entry.equalJson = entry.json;
        continue;
      }
      entry.reconcile = true;
      entry.dirty = true;
      this.kick(entry);
    }
  }

  /** Starts the write loop unless it runs; a status that lands while it winds down restarts it. */
  private kick(entry: Entry): void {
    if (entry.writing) return;
    const writing = this.write(entry).finally(() => {
      if (entry.writing === writing) entry.writing = undefined;
      if (entry.dirty) this.kick(entry);
    });
    entry.writing = writing;
  }

  /** Deletes the API object of a terminated pod (after its final status went out). */
  async deletePod(pod: Pod): Promise<void> {
    const entry = this.entries.get(pod.metadata.uid ?? '');
    await entry?.writing;
    if (this.writer?.deletePod) await this.writer.deletePod(pod);
  }

  /** Forgets pod `uid` (the kubelet is done with it); a write in flight still finishes. */
  removePod(uid: string): void {
    this.entries.delete(uid);
  }

  /**
   * Resolves when this pod's status write, and any status queued behind it, went out: a pod's
   * cleanup waits for its own final status, not for every other pod's (with 110 pods deleted at
   * once, waiting on flush() held each pod's API delete until the last pod's status was written).
   */
  async flushPod(uid: string): Promise<void> {
    for (let writing = this.entries.get(uid)?.writing; writing; writing = this.entries.get(uid)?.writing)
      await writing;
  }

  /** Resolves when every pending write finished (tests, shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [...this.entries.values()].map((e) => e.writing).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /**
   * The pod's hold to wait out before its next write, once per hold and at most maxHoldMs
   * (statuses set meanwhile replace the one waiting, so the write that follows carries the
   * newest); undefined, and no tick lost, when there is none.
   */
  private holdOf(entry: Entry): Promise<void> | undefined {
    const hold = this.options.holdWrite?.(entry.pod.metadata.uid ?? '');
    if (!hold || hold === entry.heldFor) return undefined;
    entry.heldFor = hold;
    const clock = this.options.clock ?? systemClock;
    let timer: unknown;
    const limit = new Promise<void>((resolve) => {
      timer = clock.setTimeout(resolve, this.options.maxHoldMs ?? MAX_STATUS_HOLD_MS);
    });
    return Promise.race([hold, limit]).then(() => clock.clearTimeout(timer));
  }

  private async write(entry: Entry): Promise<void> {
    while (entry.dirty) {
      const hold = this.writer ? this.holdOf(entry) : undefined;
      if (hold) await hold;
      entry.dirty = false;
      const reconcile = entry.reconcile;
      entry.reconcile = false;
      const json = entry.json;
      if (json === entry.written && !reconcile) continue;
      if (!this.writer) {
        entry.written = json;
        continue;
      }
      const uid = entry.pod.metadata.uid ?? '';
      const api = this.options.apiPodOf?.(uid);
      // A reconcile carries the conditions others own as the API shows them now (upstream mergePodStatus).
      const status = reconcile && api ? mergedWithApi(api.status, entry.status) : entry.status;
      entry.apiVersionAtWrite = api?.metadata.resourceVersion;
      try {
        await this.writer.patchStatus(entry.pod, status);
        // After a reconcile the API holds the merged status: the next sync, which generates it
        // with the same conditions others own, has nothing new to write.
        entry.written = status === entry.status ? json : JSON.stringify(status);
        this.writes++;
      } catch (error) {
        // The API's copy does not hold this write: the next reconcile compares it again.
        entry.apiVersionAtWrite = undefined;
        this.onError(entry.pod, error);
      }
    }
  }
}
