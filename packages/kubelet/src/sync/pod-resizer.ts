import { type Clock, formatBinary, formatMilliCpu } from '@nodeagent/primitives';
import { type ResizePinning, resizeRefusal } from '../admission/resize-admission';
import { isStaticPod } from '../api/config-source';
import {
  hasPodLevelResources,
  isSupportedPodLevelResource,
  podLevelRequest,
} from '../api/pod-level-resources';
import { podName } from '../api/pod-name';
import { podRequests } from '../api/pod-requests';
import type { Container, Pod, PodStatus, ResourceList, ResourceRequirements } from '../api/pod-types';
import {
  type ContainerResourceValues,
  canonicalQuantity,
  canonicalResources,
  containerResourceValues,
  resizableContainers,
  resourceRequirementsEqual,
} from '../api/resize-quantities';
import type { CgroupFilesystem } from '../cgroups/cgroup-filesystem';
import type { PodCgroupManager } from '../cgroups/pod-cgroup-manager';
import { resizePodCgroup } from '../cgroups/pod-cgroup-resize';
import { type PodResourceConfigOptions, podResourceConfig } from '../cgroups/pod-resource-config';
import { containerHash } from '../cri/container-hash';
import { type LinuxResourceOptions, linuxContainerResources } from '../cri/linux-resources';
import type { PodRuntime } from '../cri/pod-runtime';
import type { PodRuntimeStatus } from '../cri/runtime-state';
import { findContainer } from '../cri/runtime-state';
import type { PodEventRecorder } from '../events/event-reasons';
import {
  resizeCompletedMessage,
  resizeErrorMessage,
  resizeEventReasons,
  resizePendingMessage,
  resizeStartedMessage,
} from '../events/resize-events';
import type { KubeletLogger } from '../kubelet-logger';
import { AllocationStore } from '../pod/allocation-store';
import {
  type ContainerResizeUpdate,
  computeContainerResizeAction,
  orderUpdates,
  type ResizeResource,
} from '../pod/compute-resize-action';
import { containerBackOffKey } from '../pod/crash-loop-backoff';
import { ResizeConditions } from '../status/resize-conditions';
import type { NodeFactsReader } from './node-facts';
import type { PodSyncer } from './pod-syncer';
import { noticingPodCgroupWrites } from './sandbox-resources-notice';

export interface PodResizerOptions {
  /** --root-dir: the allocation checkpoints live there. */
  rootDir: string;
  /** The pod cgroups (cgroupsPerQOS); without them every resize is refused (noPodCgroupResizeMessage). */
  cgroups?: PodCgroupManager;
  cgroupOptions?: PodResourceConfigOptions;
  /**
   * CRI UpdateContainerResources (a runtime without it cannot resize in place) and
   * UpdatePodSandboxResources (told around each pod cgroup write, when the runtime has it).
   */
  runtime?: Pick<PodRuntime, 'updateContainerResources' | 'updatePodSandboxResources'>;
  /** What a container's CRI resources are computed with, as the container config computes them. */
  containerResources: Pick<
    LinuxResourceOptions,
    'memoryCapacity' | 'swap' | 'memoryQoS' | 'oomGroupKill' | 'cpuCFSQuota' | 'cpuCFSQuotaPeriodUs'
  >;
  clock: Clock;
  recordEvent?: PodEventRecorder;
  /** The node's allocatable resources as last learnt (what a resize must fit in). */
  node: Pick<NodeFactsReader, 'allocatable'>;
  /** The pods a resize is fitted among, and who syncs a pod again (a deferred resize may fit now). */
  pods: ResizerPods;
  /** Hears a resize that failed and a checkpoint write that did not happen. */
  logger?: KubeletLogger;
  /** Static resource managers that make a Guaranteed pod's resize infeasible. */
  pinning?: ResizePinning;
}

/** What the resizer asks of the kubelet's pods. */
export interface ResizerPods {
  /** The pods that hold resources on the node (not terminated), as their sources last gave them. */
  activePods(): readonly Pod[];
  /** Asks for a sync of the pod (a deferred resize may fit now). */
  resync(uid: string): void;
}

/** A container killed for its resize, to be started again by the sync with the new resources. */
export type ResizeKill = (
  pod: Pod,
  container: Container,
  containerId: string,
  message: string,
) => Promise<void>;

/**
 * In-place pod resize (upstream allocation manager + kuberuntime's resize steps + the status
 * manager's resize conditions), hooked into each pod sync in three steps:
 * 1. allocate: the first sync records the pod's resources as allocated; a later spec with other
 *    resources is a resize, allocated if the node has room (ResizeStarted, PodResizeInProgress)
 *    or left pending (PodResizePending Deferred/Infeasible, ResizeDeferred/ResizeInfeasible) —
 *    the sync runs the pod with what is allocated;
 * 2. actuate: running containers whose applied resources differ are updated in place (pod
 *    cgroup and CRI UpdateContainerResources, in upstream's order) or, with resizePolicy
 *    RestartContainer, killed for the sync to start again;
 * 3. report: containers' allocatedResources and resources, the pod's status.resources and the
 *    resize conditions; ResizeCompleted once everything applied.
 * A deferred resize is tried again whenever an allocation shrinks or a pod goes away.
 */
export class PodResizer {
  readonly store: AllocationStore;
  readonly conditions = new ResizeConditions();
  private readonly options: PodResizerOptions;
  /** Pods whose resize waits for room, oldest first. */
  private readonly deferred: string[] = [];
  /** Per pod, containers killed for a resize and not yet running again. */
  private readonly restarting = new Map<string, Set<string>>();
  /** Per pod, the memory requests it was admitted with (the pod cgroup never holds them). */
  private readonly admittedMemory = new Map<string, ResourceList>();
  /** Per new pod, the checkpoint write of its first allocation while it is under way. */
  private readonly allocationWrites = new Map<string, Promise<void>>();

  constructor(options: PodResizerOptions) {
    this.options = options;
    this.store = new AllocationStore(options.rootDir);
  }

  /** Reads the checkpoints (allocations survive a kubelet restart). */
  start(onError?: (error: Error) => void): Promise<void> {
    return this.store.load(onError);
  }

  /**
   * The checkpoint write of a new pod's first allocation, while it is under way (rejects if the
   * write fails); undefined once written. No container of the pod may start before it is done.
   */
  allocationWritten(uid: string): Promise<void> | undefined {
    return this.allocationWrites.get(uid);
  }

  /** Step 1: the pod to run, with its allocated resources. */
  async allocate(pod: Pod): Promise<Pod> {
    const uid = pod.metadata.uid ?? '';
    if (!this.store.isAllocated(uid)) {
      // The allocation holds in memory at once; its checkpoint write goes on while the sync
      // creates the sandbox, and containers wait for it (allocationWritten). Awaited here, every
      // pod of a burst waited for a file write before its sandbox (~100 ms of a 10-pod start).
      const written: Promise<void> = this.store.setAllocated(pod).finally(() => {
        if (this.allocationWrites.get(uid) === written) this.allocationWrites.delete(uid);
      });
      // Its failure is the sync's to report: the sync awaits allocationWritten.
      written.catch(() => undefined);
      this.allocationWrites.set(uid, written);
      this.admittedMemory.set(uid, memoryRequests(pod));
      return pod;
    }
    if (!this.admittedMemory.has(uid))
      this.admittedMemory.set(uid, memoryRequests(this.store.podFromAllocation(pod).pod));
    const { pod: allocated, differs } = this.store.podFromAllocation(pod);
    const now = this.options.clock.now();
    const generation = pod.metadata.generation;
    if (!differs) {
      this.conditions.clearPending(uid);
      this.forgetDeferred(uid);
      return pod;
    }
    const refusal = resizeRefusal({
      desired: pod,
      others: this.options.pods
        .activePods()
        .filter((other) => other.metadata.uid !== uid)
        .map((other) => this.store.podFromAllocation(other).pod),
      allocatable: this.options.node.allocatable,
      staticPod: isStaticPod(pod),
      podCgroups:
        this.options.cgroups !== undefined && this.options.runtime?.updateContainerResources !== undefined,
      pinning: this.options.pinning,
    });
    if (refusal) {
      if (this.conditions.setPending(uid, refusal.conditionReason, refusal.message, generation, now)) {
        const type =
          refusal.conditionReason === 'Infeasible'
            ? resizeEventReasons.infeasible
            : resizeEventReasons.deferred;
        this.options.recordEvent?.(
          pod,
          'Warning',
          type,
          resizePendingMessage(pod, generation ?? 0, refusal.reason, refusal.message),
        );
      }
      if (refusal.conditionReason === 'Deferred') {
        if (!this.deferred.includes(uid)) this.deferred.push(uid);
      } else this.forgetDeferred(uid);
      return allocated;
    }
    await this.store.setAllocated(pod);
    this.conditions.clearPending(uid);
    this.conditions.clearInProgress(uid);
    this.conditions.setInProgress(uid, generation, now);
    this.options.recordEvent?.(
      pod,
      'Normal',
      resizeEventReasons.started,
      resizeStartedMessage(pod, generation ?? 0),
    );
    this.forgetDeferred(uid);
    // The allocation changed: what another pod waits for may fit now.
    this.retryDeferred();
    return pod;
  }

  /** Tries every deferred resize again (upstream RetryPendingResizes), oldest first. */
  retryDeferred(): void {
    for (const uid of this.deferred) this.options.pods.resync(uid);
  }

  /**
   * Step 2: brings running containers to their allocated resources. Returns whether a container
   * was killed (the runtime must be read again before the sync starts it).
   */
  async actuate(pod: Pod, runtime: PodRuntimeStatus, kill: ResizeKill): Promise<boolean> {
    const { cgroups } = this.options;
    const cri = this.options.runtime;
    const updateContainerResources = cri?.updateContainerResources?.bind(cri);
    if (!cgroups || !updateContainerResources) return false;
    const uid = pod.metadata.uid ?? '';
    const kills: { container: Container; id: string; message: string }[] = [];
    const updates: Record<ResizeResource, (ContainerResizeUpdate & { increase: boolean })[]> = {
      cpu: [],
      memory: [],
    };
    for (const container of resizableContainers(pod.spec)) {
      const running = findContainer(runtime, container.name);
      if (running?.state !== 'running') continue;
      const applied = this.store.actuatedResources(uid, container.name, running.id);
      const allocated = container.resources ?? {};
      if (!applied || applied.containerId !== running.id) {
        // Started from the allocation by an earlier sync (or before a restart lost the record).
        await this.store.setActuated(uid, container.name, { containerId: running.id, resources: allocated });
        continue;
      }
      const desired = containerResourceValues(allocated);
      const current = containerResourceValues(applied.resources);
      const action = computeContainerResizeAction(container, desired, current);
      if (action.kind === 'keep') {
        // Only what no cgroup holds (a memory request) changed: it is applied as it is.
        await this.store.setActuated(uid, container.name, { containerId: running.id, resources: allocated });
      } else if (action.kind === 'restart') {
        kills.push({ container, id: running.id, message: action.message });
      } else {
        for (const { resource, increase } of action.resources)
          updates[resource].push({
            name: container.name,
            containerId: running.id,
            desired,
            current,
            increase,
          });
      }
    }
    const podLevel = await this.podLevelUpdates(pod, runtime, updates);
    if (
      kills.length === 0 &&
      updates.cpu.length === 0 &&
      updates.memory.length === 0 &&
      podLevel.length === 0
    )
      return false;
    for (const { container, id, message } of kills) {
      await kill(pod, container, id, message);
      const set = this.restarting.get(uid) ?? new Set<string>();
      set.add(container.name);
      this.restarting.set(uid, set);
    }
    const resources = (['memory', 'cpu'] as const).filter(
      (r) => updates[r].length > 0 || kills.length > 0 || podLevel.includes(r),
    );
    // What each container holds as the resize goes: its cpu and memory updates build on each other.
    const appliedNow = new Map<string, ContainerResourceValues>();
    try {
      await resizePodCgroup({
        fs: this.podCgroupWrites(cgroups, pod, runtime),
        path: cgroups.podCgroupPath(pod),
        podName: pod.metadata.name ?? '',
        target: podResourceConfig(pod, this.options.cgroupOptions),
        resources,
        updateContainers: async (resource) => {
          for (const update of orderUpdates(updates[resource])) {
            const container =
              pod.spec.containers.find((c) => c.name === update.name) ??
              (pod.spec.initContainers ?? []).find((c) => c.name === update.name)!;
            const values = mix(
              { ...update, current: appliedNow.get(update.name) ?? update.current },
              resource,
            );
            await updateContainerResources(
              update.containerId,
              linuxContainerResources(pod, withValues(container, values), this.options.containerResources),
            );
            update.current = values;
            appliedNow.set(update.name, values);
          }
        },
      });
    } catch (error) {
      const message = (error as Error).message;
      this.conditions.setInProgress(uid, pod.metadata.generation, this.options.clock.now(), 'Error', message);
      this.options.recordEvent?.(
        pod,
        'Warning',
        resizeEventReasons.error,
        resizeErrorMessage(pod, pod.metadata.generation ?? 0, message),
      );
      this.options.logger?.warn({ pod: podName(pod), err: String(error) }, 'Pod resize failed');
      return kills.length > 0;
    }
    if (pod.spec.resources) await this.store.setActuatedPodLevel(uid, pod.spec.resources);
    for (const update of [...updates.memory, ...updates.cpu]) {
      const container = resizableContainers(pod.spec).find((c) => c.name === update.name);
      await this.store.setActuated(uid, update.name, {
        containerId: update.containerId,
        resources: container?.resources ?? {},
      });
    }
    return kills.length > 0;
  }

  /**
   * The filesystem the resize writes the pod cgroup through: each write told to the runtime
   * first (CRI UpdatePodSandboxResources, upstream v1.36's order) when the runtime has the call
   * and the pod a sandbox.
   */
  private podCgroupWrites(cgroups: PodCgroupManager, pod: Pod, runtime: PodRuntimeStatus): CgroupFilesystem {
    const cri = this.options.runtime;
    const sandboxId = runtime.sandboxes[0]?.id;
    if (!cri?.updatePodSandboxResources || sandboxId === undefined) return cgroups.fs;
    return noticingPodCgroupWrites(cgroups.fs, cgroups.podCgroupPath(pod), {
      runtime: { updatePodSandboxResources: cri.updatePodSandboxResources.bind(cri) },
      sandboxId,
      pod,
      options: this.options.containerResources,
      logger: this.options.logger,
    });
  }

  /**
   * Pod-level resources (InPlacePodLevelResourcesVerticalScaling): the resources whose pod-level
   * values changed since the pod cgroup was last sized, with updates for the running containers
   * that have no limit of their own for them (their limit is the pod's). A pod never recorded
   * started with its allocation: recorded as applied, nothing to do.
   */
  private async podLevelUpdates(
    pod: Pod,
    runtime: PodRuntimeStatus,
    updates: Record<ResizeResource, (ContainerResizeUpdate & { increase: boolean })[]>,
  ): Promise<ResizeResource[]> {
    const uid = pod.metadata.uid ?? '';
    const allocated = pod.spec.resources;
    const applied = this.store.actuatedPodLevelResources(uid);
    if (!allocated) return [];
    if (!applied) {
      await this.store.setActuatedPodLevel(uid, allocated);
      return [];
    }
    const was = containerResourceValues(applied);
    const now = containerResourceValues(allocated);
    const changed: ResizeResource[] = [];
    if (was.memoryLimitBytes !== now.memoryLimitBytes) changed.push('memory');
    if (was.cpuLimitMilli !== now.cpuLimitMilli || was.cpuRequestMilli !== now.cpuRequestMilli)
      changed.push('cpu');
    if (changed.length === 0) {
      // Only what no cgroup holds (the pod-level memory request) changed.
      await this.store.setActuatedPodLevel(uid, allocated);
      return [];
    }
    for (const container of resizableContainers(pod.spec)) {
      const running = findContainer(runtime, container.name);
      if (running?.state !== 'running') continue;
      const own = container.resources ?? {};
      const effective = (level: ResourceRequirements) =>
        containerResourceValues({
          requests: own.requests,
          limits: {
            ...own.limits,
            ...(own.limits?.cpu === undefined && level.limits?.cpu !== undefined
              ? { cpu: level.limits.cpu }
              : {}),
            ...(own.limits?.memory === undefined && level.limits?.memory !== undefined
              ? { memory: level.limits.memory }
              : {}),
          },
        });
      const current = effective(applied);
      const desired = effective(allocated);
      if (changed.includes('memory') && current.memoryLimitBytes !== desired.memoryLimitBytes)
        updates.memory.push({
          name: container.name,
          containerId: running.id,
          desired,
          current,
          increase: desired.memoryLimitBytes > current.memoryLimitBytes,
        });
      if (changed.includes('cpu') && current.cpuLimitMilli !== desired.cpuLimitMilli)
        updates.cpu.push({
          name: container.name,
          containerId: running.id,
          desired,
          current,
          increase: desired.cpuLimitMilli > current.cpuLimitMilli,
        });
    }
    return changed;
  }

  /**
   * Step 3: the status as the pod runs — allocated and applied resources per container, the
   * pod's status.resources, and the resize conditions (ResizeCompleted once nothing is left).
   */
  async report(desired: Pod, allocated: Pod, runtime: PodRuntimeStatus, status: PodStatus): Promise<void> {
    const uid = desired.metadata.uid ?? '';
    const restarting = this.restarting.get(uid);
    let inProgress = false;
    const byName = new Map(resizableContainers(allocated.spec).map((c) => [c.name, c]));
    for (const containerStatus of [
      ...(status.initContainerStatuses ?? []),
      ...(status.containerStatuses ?? []),
    ]) {
      const container = byName.get(containerStatus.name);
      if (!container) continue;
      const running = findContainer(runtime, container.name);
      if (running?.state !== 'running') continue;
      let applied = this.store.actuatedResources(uid, container.name, running.id);
      if (!applied || applied.containerId !== running.id) {
        // Started in this sync from the allocated spec.
        applied = { containerId: running.id, resources: container.resources ?? {} };
        // Recorded at once; the checkpoint write goes on behind the status instead of holding
        // the pod's first Running write (under load it took 5-240 ms per pod). A failed write is
        // reported, as upstream logs it, and a record a restart lost is made again by the next
        // sync from the allocation (actuate).
        this.store
          .setActuated(uid, container.name, applied)
          .catch((error: unknown) =>
            this.options.logger?.warn(
              { pod: podName(desired), err: `recording the actuated resources: ${String(error)}` },
              'Pod resize failed',
            ),
          );
        restarting?.delete(container.name);
      }
      const requests = statusList(container.resources?.requests);
      if (Object.keys(requests).length > 0) containerStatus.allocatedResources = requests;
      else delete containerStatus.allocatedResources;
      containerStatus.resources = statusRequirements(applied.resources);
      if (!resourceRequirementsEqual(applied.resources, container.resources)) inProgress = true;
    }
    if (restarting && restarting.size > 0) inProgress = true;
    const appliedPodLevel = this.store.actuatedPodLevelResources(uid);
    if (
      allocated.spec.resources &&
      appliedPodLevel &&
      !resourceRequirementsEqual(appliedPodLevel, allocated.spec.resources)
    )
      inProgress = true;
    status.resources = hasPodLevelResources(allocated)
      ? podLevelSpecResources(appliedPodLevel ?? allocated.spec.resources ?? {})
      : podLevelResources(
          allocated,
          (name) => this.store.actuatedResources(uid, name)?.resources,
          this.admittedMemory.get(uid),
        );
    const allocatedRequests = podAllocatedResources(allocated);
    if (allocatedRequests) status.allocatedResources = allocatedRequests;
    else delete status.allocatedResources;
    const condition = this.conditions.inProgress(uid);
    if (inProgress && !condition)
      this.conditions.setInProgress(uid, desired.metadata.generation, this.options.clock.now());
    if (!inProgress && condition) {
      this.conditions.clearInProgress(uid);
      this.options.recordEvent?.(
        desired,
        'Normal',
        resizeEventReasons.completed,
        resizeCompletedMessage(allocated, condition.observedGeneration ?? desired.metadata.generation ?? 0),
      );
    }
    const resize = this.conditions.conditions(uid);
    if (resize.length > 0) status.conditions = [...resize, ...(status.conditions ?? [])];
  }

  /** A pod that stopped frees its allocation: deferred resizes may fit now. */
  async removePod(uid: string): Promise<void> {
    this.allocationWrites.delete(uid);
    await this.store.removePod(uid);
    this.conditions.removePod(uid);
    this.restarting.delete(uid);
    this.admittedMemory.delete(uid);
    this.forgetDeferred(uid);
    this.retryDeferred();
  }

  /**
   * Upstream's allocationManager.RemoveOrphanedPods (housekeeping, once the sources are ready):
   * the recorded allocations of pods the kubelet does not have, such as one deleted while it was
   * down, go from memory and the checkpoint.
   */
  async removeOrphans(known: ReadonlySet<string>): Promise<void> {
    for (const uid of this.store.podUids()) if (!known.has(uid)) await this.removePod(uid);
  }

  private forgetDeferred(uid: string): void {
    const index = this.deferred.indexOf(uid);
    if (index >= 0) this.deferred.splice(index, 1);
  }
}

/** The values the container gets for one resource's update: that resource desired, the other as applied. */
function mix(update: ContainerResizeUpdate, resource: ResizeResource): ContainerResourceValues {
  return resource === 'memory'
    ? {
        ...update.current,
        memoryLimitBytes: update.desired.memoryLimitBytes,
        memoryRequestBytes: update.desired.memoryRequestBytes,
      }
    : {
        ...update.current,
        cpuLimitMilli: update.desired.cpuLimitMilli,
        cpuRequestMilli: update.desired.cpuRequestMilli,
      };
}

function withValues(container: Container, values: ContainerResourceValues): Container {
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  if (values.cpuLimitMilli > 0) limits.cpu = formatMilliCpu(values.cpuLimitMilli);
  if (values.memoryLimitBytes > 0) limits.memory = formatBinary(values.memoryLimitBytes);
  if (values.cpuRequestMilli > 0) requests.cpu = formatMilliCpu(values.cpuRequestMilli);
  if (values.memoryRequestBytes > 0) requests.memory = formatBinary(values.memoryRequestBytes);
  return { ...container, resources: { limits, requests } };
}

const statusResourceNames = ['cpu', 'memory', 'ephemeral-storage'];

function statusList(list: ResourceList | undefined): ResourceList {
  const out: ResourceList = {};
  for (const name of statusResourceNames) if (list?.[name] !== undefined) out[name] = list[name]!;
  return out;
}

function statusRequirements(resources: ResourceRequirements): ResourceRequirements {
  const out: ResourceRequirements = {};
  if (resources.limits) out.limits = statusList(resources.limits);
  if (resources.requests) out.requests = statusList(resources.requests);
  return out;
}

function memoryRequests(pod: Pod): ResourceList {
  let total = 0;
  for (const c of resizableContainers(pod.spec)) {
    const v = containerResourceValues(c.resources);
    total += v.memoryRequestBytes;
  }
  return total > 0 ? { memory: formatBinary(total) } : {};
}

/**
 * status.resources: the pod's applied CPU requests and CPU/memory limits summed over its
 * containers (a limit only when every container has one), and the memory requests it was
 * admitted with — upstream reports those, not a resized memory request (the pod cgroup has no
 * memory request to apply), as resize-v1.36 records.
 */
function podLevelResources(
  pod: Pod,
  applied: (name: string) => ResourceRequirements | undefined,
  admittedMemory: ResourceList | undefined,
): ResourceRequirements {
  const containers = resizableContainers(pod.spec);
  let cpuRequest = 0;
  let cpuLimit = 0;
  let memoryLimit = 0;
  let allCpuLimits = containers.length > 0;
  let allMemoryLimits = containers.length > 0;
  for (const container of containers) {
    const resources = applied(container.name) ?? container.resources;
    const v = containerResourceValues(resources);
    cpuRequest += v.cpuRequestMilli;
    cpuLimit += v.cpuLimitMilli;
    memoryLimit += v.memoryLimitBytes;
    if (resources?.limits?.cpu === undefined) allCpuLimits = false;
    if (resources?.limits?.memory === undefined) allMemoryLimits = false;
  }
  const limits: ResourceList = {};
  const requests: ResourceList = {};
  if (allCpuLimits) limits.cpu = formatMilliCpu(cpuLimit);
  if (allMemoryLimits) limits.memory = formatBinary(memoryLimit);
  if (cpuRequest > 0) requests.cpu = formatMilliCpu(cpuRequest);
  if (admittedMemory?.memory !== undefined) requests.memory = admittedMemory.memory;
  const out: ResourceRequirements = {};
  if (Object.keys(limits).length > 0) out.limits = limits;
  if (Object.keys(requests).length > 0) out.requests = requests;
  return out;
}

/**
 * status.resources of a pod with pod-level resources: the pod-level requests and limits its
 * cgroup was last sized with, cpu, memory and huge pages, as Go prints them.
 */
function podLevelSpecResources(resources: ResourceRequirements): ResourceRequirements {
  const supported = (list: ResourceList | undefined) =>
    list && Object.fromEntries(Object.entries(list).filter(([name]) => isSupportedPodLevelResource(name)));
  return canonicalResources({
    limits: supported(resources.limits),
    requests: supported(resources.requests),
  });
}

/**
 * The pod's status.allocatedResources: its allocated cpu and memory requests as a whole (upstream
 * PodRequests, pod-level ones when set), each only when non-zero; undefined when it asks for none.
 */
function podAllocatedResources(pod: Pod): ResourceList | undefined {
  const { cpuMilli, memoryBytes } = podRequests(pod);
  const out: ResourceList = {};
  if (cpuMilli > 0) out.cpu = formatMilliCpu(cpuMilli);
  if (memoryBytes > 0) out.memory = formatBinary(memoryBytes);
  // A pod-level request is the quantity itself, printed as Go prints it ("100M" stays decimal).
  for (const name of ['cpu', 'memory'] as const) {
    const level = podLevelRequest(pod, name);
    if (out[name] !== undefined && level !== undefined && pod.spec.overhead?.[name] === undefined)
      out[name] = canonicalQuantity(name, level);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The kill of a container whose resize needs a restart, through the syncer (Killing "Container c
 * resize requires restart", preStop, grace period). Its crash-loop back-off entry is dropped
 * first: the sync that follows starts it again at once, as upstream does, however often it was
 * resized before.
 */
export function killForResize(syncer: PodSyncer, podIP: (pod: Pod) => string | undefined): ResizeKill {
  return async (pod, container, containerId, message) => {
    const { uid = '', name = '', namespace = 'default' } = pod.metadata;
    syncer.crashBackOff.reset(
      containerBackOffKey(uid, name, namespace, container.name, containerHash(container)),
    );
    await syncer.killContainer(pod, container, containerId, undefined, podIP(pod), message);
  };
}
