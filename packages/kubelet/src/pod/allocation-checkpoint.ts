import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ResourceRequirements } from '../api/pod-types';
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

/** FNV-32a of the data's JSON: detects a truncated or hand-edited file. */
function checksum(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * One checkpoint file (upstream state_checkpoint): the whole map is written on every change,
 * through a temporary file and a rename, so a crash leaves the old or the new version.
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
    let parsed: { data?: { podResourceInfoMap?: PodResourceInfoMap }; checksum?: number };
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AllocationCheckpointError(this.path, `not JSON: ${(error as Error).message}`);
    }
    const data = parsed.data ?? {};
    if (parsed.checksum !== checksum(JSON.stringify(data)))
      throw new AllocationCheckpointError(this.path, 'checksum mismatch: the file was changed or cut short');
    return data.podResourceInfoMap ?? {};
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
    const data = { podResourceInfoMap: map };
    const text = JSON.stringify({ data, checksum: checksum(JSON.stringify(data)) });
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
