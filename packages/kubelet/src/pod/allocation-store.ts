import type { Container, Pod, ResourceRequirements } from '../api/pod-types';
import { resizableContainers, resourceRequirementsEqual } from '../api/resize-quantities';
import {
  AllocationCheckpoint,
  actuatedPodsStateFile,
  allocatedPodsStateFile,
  type PodResourceInfoMap,
} from './allocation-checkpoint';

/** What a running container was last given: its id and the resources applied to it. */
export interface ActuatedResources {
  containerId: string;
  resources: ResourceRequirements;
}

function copy(resources: ResourceRequirements | undefined): ResourceRequirements {
  return structuredClone(resources ?? {});
}

/**
 * Upstream's allocation manager state: the resources each pod's containers were admitted with
 * (allocated: the spec as the kubelet accepted it, so a resize the node cannot take yet does not
 * leak into what runs) and the resources last applied to each running container (actuated).
 * Both survive a kubelet restart in checkpoint files under the root directory.
 */
export class AllocationStore {
  private allocated: PodResourceInfoMap = {};
  /** Per pod, per container: the applied resources with the container id they were applied to. */
  private actuated: Record<string, Record<string, ActuatedResources>> = {};
  /** Per pod with pod-level resources: the pod-level resources its pod cgroup was last given. */
  private actuatedPodLevel: Record<string, ResourceRequirements> = {};
  private readonly allocatedFile: AllocationCheckpoint;
  private readonly actuatedFile: AllocationCheckpoint;

  constructor(rootDir: string) {
    this.allocatedFile = new AllocationCheckpoint(rootDir, allocatedPodsStateFile);
    this.actuatedFile = new AllocationCheckpoint(rootDir, actuatedPodsStateFile);
  }

  /** Reads both checkpoints; a file that cannot be read is reported and started over. */
  async load(onError: (error: Error) => void = () => {}): Promise<void> {
    this.allocated = await this.allocatedFile.load().catch((error: Error) => {
      onError(error);
      return {};
    });
    const actuated = await this.actuatedFile.load().catch((error: Error) => {
      onError(error);
      return {};
    });
    this.actuated = {};
    this.actuatedPodLevel = {};
    for (const [uid, info] of Object.entries(actuated)) {
      if (info.podLevelResources) this.actuatedPodLevel[uid] = info.podLevelResources;
      // Upstream's file names containers only: which container a record belongs to is learnt
      // when it is next asked about (actuatedResources).
      const entries: Record<string, ActuatedResources> = {};
      for (const [name, resources] of Object.entries(info.containerResources))
        entries[name] = { containerId: '', resources };
      this.actuated[uid] = entries;
    }
  }

  isAllocated(uid: string): boolean {
    return this.allocated[uid] !== undefined;
  }

  allocatedResources(uid: string, container: string): ResourceRequirements | undefined {
    return this.allocated[uid]?.containerResources[container];
  }

  /** Records the pod's resizable containers' current spec resources as its allocation. */
  async setAllocated(pod: Pod): Promise<void> {
    const containerResources: Record<string, ResourceRequirements> = {};
    for (const container of resizableContainers(pod.spec))
      containerResources[container.name] = copy(container.resources);
    this.allocated[pod.metadata.uid ?? ''] = {
      containerResources,
      ...(pod.spec.resources ? { podLevelResources: copy(pod.spec.resources) } : {}),
    };
    await this.allocatedFile.save(this.allocated);
  }

  /**
   * Upstream UpdatePodFromAllocation: the pod with each allocated container's resources in
   * place of the spec's, and whether anything differed (a resize is asked for). A pod never
   * allocated comes back as it is.
   */
  podFromAllocation(pod: Pod): { pod: Pod; differs: boolean } {
    const info = this.allocated[pod.metadata.uid ?? ''];
    if (!info) return { pod, differs: false };
    const resized = (container: Container): boolean => {
      const allocated = info.containerResources[container.name];
      return allocated !== undefined && !resourceRequirementsEqual(allocated, container.resources);
    };
    const podLevelResized = !resourceRequirementsEqual(info.podLevelResources, pod.spec.resources);
    // The common case, nothing resized, makes no copy: admission asks this of every pod at each arrival.
    if (!podLevelResized && !pod.spec.containers.some(resized) && !pod.spec.initContainers?.some(resized))
      return { pod, differs: false };
    // Past the check something differs: only the resized parts are replaced.
    const swap = (container: Container): Container =>
      resized(container)
        ? { ...container, resources: copy(info.containerResources[container.name]) }
        : container;
    const spec: Pod['spec'] = {
      ...pod.spec,
      containers: pod.spec.containers.map(swap),
      ...(pod.spec.initContainers ? { initContainers: pod.spec.initContainers.map(swap) } : {}),
    };
    // Pod-level resources (InPlacePodLevelResourcesVerticalScaling): allocated as a whole too.
    if (podLevelResized) {
      if (info.podLevelResources) spec.resources = copy(info.podLevelResources);
      else delete spec.resources;
    }
    return { pod: { ...pod, spec }, differs: true };
  }

  /**
   * The resources last applied to container `container` of pod `uid`. A record read back from
   * the checkpoint names no container id; given the id of the one running now (`runningId`) it is
   * taken as that container's: a kubelet restart restarts no container, so the record is the
   * running one's, as upstream's name-keyed state assumes.
   */
  actuatedResources(uid: string, container: string, runningId?: string): ActuatedResources | undefined {
    const record = this.actuated[uid]?.[container];
    if (record?.containerId !== '' || runningId === undefined) return record;
    const adopted = { ...record, containerId: runningId };
    this.actuated[uid]![container] = adopted;
    return adopted;
  }

  async setActuated(uid: string, container: string, actuated: ActuatedResources): Promise<void> {
    const current = this.actuated[uid]?.[container];
    if (
      current?.containerId === actuated.containerId &&
      resourceRequirementsEqual(current.resources, actuated.resources)
    )
      return;
    this.actuated[uid] = {
      ...(this.actuated[uid] ?? {}),
      [container]: { ...actuated, resources: copy(actuated.resources) },
    };
    await this.saveActuated();
  }

  /** The pod-level resources last applied to the pod's cgroup; undefined when never recorded. */
  actuatedPodLevelResources(uid: string): ResourceRequirements | undefined {
    return this.actuatedPodLevel[uid];
  }

  /** Records the pod-level resources now applied to the pod's cgroup. */
  async setActuatedPodLevel(uid: string, resources: ResourceRequirements): Promise<void> {
    const current = this.actuatedPodLevel[uid];
    if (current && resourceRequirementsEqual(current, resources)) return;
    this.actuatedPodLevel[uid] = copy(resources);
    await this.saveActuated();
  }

  /** Forgets a pod that is gone (upstream RemovePod). */
  async removePod(uid: string): Promise<void> {
    if (
      this.allocated[uid] === undefined &&
      this.actuated[uid] === undefined &&
      this.actuatedPodLevel[uid] === undefined
    )
      return;
    delete this.allocated[uid];
    delete this.actuated[uid];
    delete this.actuatedPodLevel[uid];
    await this.allocatedFile.save(this.allocated);
    await this.saveActuated();
  }

  /** Resolves once both checkpoint files hold every record made so far (a kubelet stop waits). */
  async settled(): Promise<void> {
    await Promise.all([this.allocatedFile.settled(), this.actuatedFile.settled()]);
  }

  /** Uids with a recorded allocation (for removing orphans after a restart). */
  podUids(): string[] {
    return Object.keys(this.allocated);
  }

  private saveActuated(): Promise<void> {
    // Keyed by container name, as upstream's file is; the container ids stay in memory.
    const map: PodResourceInfoMap = {};
    for (const [uid, containers] of Object.entries(this.actuated)) {
      const containerResources: Record<string, ResourceRequirements> = {};
      for (const [name, entry] of Object.entries(containers)) containerResources[name] = entry.resources;
      map[uid] = { containerResources };
    }
    for (const [uid, podLevelResources] of Object.entries(this.actuatedPodLevel))
      map[uid] = { containerResources: map[uid]?.containerResources ?? {}, podLevelResources };
    return this.actuatedFile.save(map);
  }
}
