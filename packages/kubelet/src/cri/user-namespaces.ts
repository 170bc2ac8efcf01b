import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type MessageInput, NamespaceMode, type UserNamespace } from '@nodeagent/cri-client/types';
import type { Pod } from '../api/pod-types';
import { KubeletError } from '../errors';
import { replaceFile } from '../replace-file';

/** Upstream's unit of a pod's ID range: idsPerPod must be a multiple of it (userNsUnitLength). */
export const userNamespaceUnitLength = 65_536;
/** KubeletConfiguration.userNamespaces.idsPerPod's default. */
export const defaultIdsPerPod = 65_536;
/** The IDs the kubelet hands out without a `kubelet` account at the default idsPerPod: all but the first 65536. */
export const defaultKubeletMapping = { firstId: 2 ** 16, length: 2 ** 32 - 2 ** 16 } as const;
/** The file in a pod's directory that keeps its mapping across restarts (upstream `userns`). */
export const userNamespaceMappingsFile = 'userns';

/** A user-namespace setting that stops the kubelet at start, or a pod's mapping that is unusable. */
export class UserNamespaceError extends KubeletError {
  constructor(field: string, value: unknown, reason: string) {
    super('USER_NAMESPACE', field, value, reason);
  }
}

/** The host ID range pods' user namespaces are cut from. */
export interface KubeletIdMapping {
  firstId: number;
  length: number;
}

/** One contiguous ID mapping as the `userns` file and CRI IDMapping hold it. */
interface IdMapping {
  hostId: number;
  containerId: number;
  length: number;
}

/** The `userns` file's content (upstream's JSON field names). */
interface MappingsFile {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
}

/** What a {@link UserNamespaceAllocator} is built from. */
export interface UserNamespaceAllocatorOptions {
  /** KubeletConfiguration.userNamespaces.idsPerPod (default 65536). */
  idsPerPod?: number;
  /** The kubelet's ID range (readKubeletIdMapping, from getsubids). */
  kubeletMapping: KubeletIdMapping;
  /** maxPods: the range must hold that many pods. */
  maxPods: number;
  /** <root-dir>/pods: each pod's directory keeps its `userns` file. */
  podsDir: string;
}

/**
 * Per-pod user namespace ID ranges for `hostUsers: false` (upstream pkg/kubelet/userns): the
 * kubelet's range is cut into blocks of idsPerPod IDs, each pod gets the first free block for
 * both UIDs and GIDs (container ID 0 at the block's start), kept in the pod's `userns` file so a
 * restarted kubelet gives it the same block, and freed when the pod is removed.
 */
export class UserNamespaceAllocator {
  readonly idsPerPod: number;
  private readonly offset: number;
  private readonly blocks: number;
  private readonly used = new Set<number>();
  private readonly byPod = new Map<string, number>();

  private constructor(private readonly options: UserNamespaceAllocatorOptions) {
    const idsPerPod = options.idsPerPod ?? defaultIdsPerPod;
    const { firstId, length } = options.kubeletMapping;
    const field = 'userNamespaces.idsPerPod';
    if (idsPerPod % userNamespaceUnitLength !== 0)
      throw new UserNamespaceError(
        field,
        idsPerPod,
        `kubelet user namespace length ${idsPerPod} is not a multiple of ${userNamespaceUnitLength}`,
      );
    if (firstId % idsPerPod !== 0)
      throw new UserNamespaceError(
        field,
        idsPerPod,
        `kubelet user assigned ID ${firstId} is not a multiple of ${idsPerPod}`,
      );
    // Mapping host ID 0 into a pod would circumvent the isolation.
    if (firstId < idsPerPod)
      throw new UserNamespaceError(
        field,
        idsPerPod,
        `kubelet user assigned ID ${firstId} must be greater or equal to ${idsPerPod}`,
      );
    if (length % idsPerPod !== 0)
      throw new UserNamespaceError(
        field,
        idsPerPod,
        `kubelet user assigned IDs length ${length} is not a multiple of ${idsPerPod}`,
      );
    if (Math.floor(length / idsPerPod) < options.maxPods)
      throw new UserNamespaceError(
        'maxPods',
        options.maxPods,
        `kubelet user assigned IDs are not enough to support ${options.maxPods} pods`,
      );
    this.idsPerPod = idsPerPod;
    this.offset = firstId / idsPerPod;
    this.blocks = length / idsPerPod;
  }

  /**
   * Checks the settings (upstream MakeUserNsManager's refusals, with its words) and records the
   * blocks of pods a previous run left on disk. A bad setting or an unreadable `userns` file throws:
   * upstream does not start then.
   */
  static async create(options: UserNamespaceAllocatorOptions): Promise<UserNamespaceAllocator> {
    const allocator = new UserNamespaceAllocator(options);
    const pods = await readdir(options.podsDir, { withFileTypes: true }).catch(() => []);
    for (const entry of pods) {
      if (!entry.isDirectory()) continue;
      const mappings = await allocator.readMappings(entry.name);
      if (mappings) allocator.record(entry.name, mappings);
    }
    return allocator;
  }

  /** How many pods hold a block. */
  get allocated(): number {
    return this.byPod.size;
  }

  /**
   * The pod's user namespace for its sandbox and containers: its recorded block, or the first
   * free one, written to its `userns` file before it is used.
   */
  async mappingsFor(pod: Pod): Promise<MessageInput<UserNamespace>> {
    const uid = pod.metadata.uid ?? '';
    let firstId = this.byPod.get(uid);
    if (firstId === undefined) {
      const onDisk = await this.readMappings(uid);
      if (onDisk) firstId = this.record(uid, onDisk);
      else {
        firstId = this.allocate(uid);
        const mapping = { hostId: firstId, containerId: 0, length: this.idsPerPod };
        try {
          await this.writeMappings(uid, { uidMappings: [mapping], gidMappings: [mapping] });
        } catch (error) {
          this.release(uid);
          throw error;
        }
      }
    }
    const ids = [{ hostId: firstId, containerId: 0, length: this.idsPerPod }];
    return { mode: NamespaceMode.POD, uids: ids, gids: ids };
  }

  /** Frees the pod's block and removes its `userns` file (the pod is gone). */
  async releasePod(uid: string): Promise<void> {
    if (!this.byPod.has(uid)) return;
    this.release(uid);
    await rm(join(this.options.podsDir, uid, userNamespaceMappingsFile), { force: true });
  }

  /**
   * Frees the blocks of pods that are neither known nor running (upstream
   * CleanupOrphanedPodUsernsAllocations): e.g. a block recorded from disk at start for a pod
   * deleted while the kubelet was down. Returns the uids released.
   */
  async releaseOrphans(keep: Iterable<string>): Promise<string[]> {
    const wanted = new Set(keep);
    const orphans = [...this.byPod.keys()].filter((uid) => !wanted.has(uid));
    for (const uid of orphans) await this.releasePod(uid);
    return orphans;
  }

  private allocate(uid: string): number {
    for (let block = 0; block < this.blocks; block++) {
      if (this.used.has(block)) continue;
      this.used.add(block);
      const firstId = (block + this.offset) * this.idsPerPod;
      this.byPod.set(uid, firstId);
      return firstId;
    }
    throw new UserNamespaceError('pod', uid, 'could not find an empty slot to allocate a user namespace');
  }

  private release(uid: string): void {
    const firstId = this.byPod.get(uid);
    if (firstId === undefined) return;
    this.byPod.delete(uid);
    this.used.delete(firstId / this.idsPerPod - this.offset);
  }

  /** Takes a block found on disk (upstream record): it must be whole, in range and free. */
  private record(uid: string, mappings: MappingsFile): number {
    const { hostId, length } = mappings.uidMappings[0]!;
    const fail = (reason: string) => new UserNamespaceError('userns', uid, reason);
    if (length !== this.idsPerPod) throw fail(`wrong user namespace length ${length}`);
    if (hostId % this.idsPerPod !== 0) throw fail(`wrong user namespace offset specified ${hostId}`);
    const previous = this.byPod.get(uid);
    if (previous !== undefined && previous !== hostId)
      throw fail(`different user namespace range already used by pod "${uid}"`);
    const block = hostId / this.idsPerPod - this.offset;
    if (block < 0 || block >= this.blocks) throw fail(`id ${hostId} is out of range`);
    if (previous === undefined && this.used.has(block))
      throw fail(`range picked for pod "${uid}" already taken`);
    this.used.add(block);
    this.byPod.set(uid, hostId);
    return hostId;
  }

  /** The pod's `userns` file, checked as upstream checks it; undefined when there is none. */
  private async readMappings(uid: string): Promise<MappingsFile | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.options.podsDir, uid, userNamespaceMappingsFile), 'utf8');
    } catch {
      return undefined;
    }
    if (text === '') return undefined;
    const fail = (reason: string) => new UserNamespaceError('userns', uid, reason);
    let parsed: MappingsFile;
    try {
      parsed = JSON.parse(text) as MappingsFile;
    } catch (error) {
      throw fail(`invalid user namespace mappings file: ${(error as Error).message}`);
    }
    const uids = parsed.uidMappings ?? [];
    const gids = parsed.gidMappings ?? [];
    if (uids.length !== 1)
      throw fail('invalid user namespace configuration: no more than one mapping allowed.');
    if (uids.length !== gids.length)
      throw fail('invalid user namespace configuration: GID and UID mappings should be identical.');
    const [u, g] = [uids[0]!, gids[0]!];
    if (u.hostId !== g.hostId || u.containerId !== g.containerId || u.length !== g.length)
      throw fail('invalid user namespace configuration: GID and UID mapping should be identical');
    if (u.containerId !== 0) throw fail('invalid user namespace configuration: UID 0 must be mapped');
    return parsed;
  }

  /** Written whole through a temporary file, so a crash never leaves half a mapping behind. */
  private async writeMappings(uid: string, mappings: MappingsFile): Promise<void> {
    const dir = join(this.options.podsDir, uid);
    await mkdir(dir, { recursive: true });
    const path = join(dir, userNamespaceMappingsFile);
    await replaceFile(path, JSON.stringify(mappings), {
      mode: 0o644,
      temporaryPath: `${path}.tmp`,
    });
  }
}
