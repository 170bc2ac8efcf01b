import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { goJson, goSortedMap } from '@nodeagent/primitives/go-text';
import type { ResourceRequirements } from '../api/pod-types';
import { fnv32a } from '../deep-hash';
import { KubeletError } from '../errors';
import { replaceFile } from '../replace-file';

/** Upstream's file names under the kubelet root directory. */
export const allocatedPodsStateFile = 'allocated_pods_state';
export const actuatedPodsStateFile = 'actuated_pods_state';

/** What is recorded per pod: each resizable container's requests and limits, and the pod-level ones when set. */
export interface PodResourceInfo {
  containerResources: Record<string, ResourceRequirements>;
  /** The pod's `spec.resources` (PodLevelResources), absent for a pod without them. */
  podLevelResources?: ResourceRequirements;
}

export type PodResourceInfoMap = Record<string, PodResourceInfo>;

/** A checkpoint file that cannot be read back (bad JSON, wrong checksum). */
export class AllocationCheckpointError extends KubeletError {
  constructor(path: string, reason: string) {
    super('ALLOCATION_CHECKPOINT', 'checkpoint', path, reason);
  }
}

/** A map as Go's json.Marshal writes it, each value encoded: keys sorted. */
function goMapOf<T, U>(record: Readonly<Record<string, T>>, encode: (value: T) => U): Record<string, U> {
  return goSortedMap(Object.entries(record).map(([key, value]) => [key, encode(value)] as const));
}

/** v1.ResourceRequirements as Go marshals it: limits, requests, claims, each left out when empty. */
function wireRequirements(resources: ResourceRequirements): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  if (resources.limits && Object.keys(resources.limits).length > 0)
    wire.limits = goMapOf(resources.limits, String);
  if (resources.requests && Object.keys(resources.requests).length > 0)
    wire.requests = goMapOf(resources.requests, String);
  if (resources.claims && resources.claims.length > 0) wire.claims = resources.claims;
  return wire;
}

/** One pod's entry as upstream's PodResourceInfo marshals it (its Go field names, no JSON tags). */
interface WirePodInfo {
  ContainerResources?: Record<string, ResourceRequirements> | null;
  PodLevelResources?: ResourceRequirements | null;
}

/**
 * The checkpoint's Data: upstream's PodResourceCheckpointInfo as JSON, `{"entries":{"<pod
 * uid>":{"ContainerResources":{…},"PodLevelResources":…}}}`, maps sorted as Go sorts them.
 */
function encodeData(map: PodResourceInfoMap): string {
  const entries = goMapOf(map, (info) => ({
    ContainerResources: goMapOf(info.containerResources, wireRequirements),
    PodLevelResources: info.podLevelResources ? wireRequirements(info.podLevelResources) : null,
  }));
  return goJson(Object.keys(entries).length > 0 ? { entries } : {});
}

function decodeData(data: string): PodResourceInfoMap {
  const parsed = JSON.parse(data) as { entries?: Record<string, WirePodInfo> | null };
  const map: PodResourceInfoMap = {};
  for (const [uid, info] of Object.entries(parsed.entries ?? {})) {
    map[uid] = {
      containerResources: { ...(info.ContainerResources ?? {}) },
      ...(info.PodLevelResources ? { podLevelResources: info.PodLevelResources } : {}),
    };
  }
  return map;
}

/** Upstream's checksum.New of the Data string: FNV-32a of go-spew's print of it, `(string)<data>`. */
function dataChecksum(data: string): number {
  return fnv32a(`(string)${data}`);
}

/**
 * One checkpoint file (upstream state_checkpoint), in upstream's format so that either kubelet
 * reads what the other wrote: `{"data":"<PodResourceCheckpointInfo as JSON>","checksum":n}`.
 * The whole map is written on every change, through a temporary file and a rename, so a crash
 * leaves the old or the new version.
 */
export class AllocationCheckpoint {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();
  /** The write waiting for its turn, which later saves join. */
  private queued: Promise<void> | undefined;
  private latest: PodResourceInfoMap = {};

  constructor(rootDir: string, fileName: string) {
    this.path = join(rootDir, fileName);
  }

  /** The stored map; empty when there is no file yet. Throws AllocationCheckpointError when unreadable. */
  async load(): Promise<PodResourceInfoMap> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new AllocationCheckpointError(this.path, (error as Error).message);
    }
    let parsed: { data?: unknown; checksum?: number };
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AllocationCheckpointError(this.path, `not JSON: ${(error as Error).message}`);
    }
    if (typeof parsed.data !== 'string')
      throw new AllocationCheckpointError(
        this.path,
        'not an allocation checkpoint: its data is not a string',
      );
    if (parsed.checksum !== dataChecksum(parsed.data))
      throw new AllocationCheckpointError(this.path, 'checksum mismatch: the file was changed or cut short');
    try {
      return decodeData(parsed.data);
    } catch (error) {
      throw new AllocationCheckpointError(this.path, `data not JSON: ${(error as Error).message}`);
    }
  }

  /**
   * Writes the map. Writes are serialised, and saves that arrive while one is waiting for its turn
   * share it: it writes the map as it is when it starts. A burst of pod admissions (30 pods at
   * once) then costs a few file writes, not one queued write per pod that every later pod waits on.
   */
  save(map: PodResourceInfoMap): Promise<void> {
    this.latest = map;
    if (this.queued) return this.queued;
    const queued = this.writing
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.write(this.latest);
      });
    this.queued = queued;
    this.writing = queued;
    return queued;
  }

  private async write(map: PodResourceInfoMap): Promise<void> {
    const data = encodeData(map);
    const text = goJson({ data, checksum: dataChecksum(data) });
    await mkdir(dirname(this.path), { recursive: true });
    await replaceFile(this.path, text, { mode: 0o600, temporaryPath: `${this.path}.tmp` });
  }

  /** Resolves once every write asked for so far is done (whether it succeeded or not). */
  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  async remove(): Promise<void> {
    await this.settled();
    await rm(this.path, { force: true });
  }
}
