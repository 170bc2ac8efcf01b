import { lstat, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import type { KubeletLogger } from '../kubelet-logger';
import { podDir, podDirectories, podVolumesDir } from '../pod-dirs';
import { isParkingName } from '../remove-tree';
import { goErrnoText } from './go-errno';
import { MountPointInTheWayError, removeAllOneFilesystem } from './remove-all-one-filesystem';

/** What {@link OrphanedPodDirs} reads and reports through. */
export interface OrphanedPodDirsOptions {
  rootDir: string;
  /** Whether something is mounted exactly at a path (the kubelet's mounter). */
  isMountPoint: (path: string) => Promise<boolean>;
  /** Whether the volume manager still holds volumes of the pod (upstream podVolumesExist's first half). */
  podVolumesHeld: (uid: string) => boolean;
  logger: KubeletLogger;
  registry?: Registry;
}

/**
 * Upstream's cleanupOrphanedPodDirs (kubelet_volumes.go), run in housekeeping once the pod sources
 * are ready: the directory of a pod neither known nor in the runtime is removed, but only when
 * none of its volumes is held or mounted; its volume directories are rmdir'ed one by one (never
 * removed with what they hold), so one still holding data or a mount stops the pod's cleanup, and
 * the errors are logged rolled up as upstream does. kubelet_orphan_pod_cleaned_volumes{,_errors}
 * count the orphans of the last sweep and those that could not be cleaned.
 */
export class OrphanedPodDirs {
  private readonly cleaned: Gauge | undefined;
  private readonly cleanErrors: Gauge | undefined;

  constructor(private readonly options: OrphanedPodDirsOptions) {
    const registers = options.registry ? [options.registry] : [];
    if (options.registry) {
      this.cleaned = new Gauge({
        name: 'kubelet_orphan_pod_cleaned_volumes',
        help: 'The total number of orphaned Pods whose volumes were cleaned in the last periodic sweep.',
        registers,
      });
      this.cleanErrors = new Gauge({
        name: 'kubelet_orphan_pod_cleaned_volumes_errors',
        help: 'The number of orphaned Pods whose volumes failed to be cleaned in the last periodic sweep.',
        registers,
      });
    }
  }

  /** One sweep: `known` holds the uids of the kubelet's pods and of the runtime's pods. */
  async sweep(known: ReadonlySet<string>): Promise<void> {
    const { rootDir, logger } = this.options;
    const volumeErrors: string[] = [];
    const removalErrors: string[] = [];
    let total = 0;
    let errorPods = 0;
    for (const uid of await podDirectories(rootDir)) {
      // A tree removeTree parked is being removed; one left over goes with the next removal.
      if (known.has(uid) || isParkingName(uid)) continue;
      total++;
      if (await this.podVolumesExist(uid)) {
        errorPods++;
        logger.info({ podUID: uid }, 'Orphaned pod found, but volumes are not cleaned up');
        continue;
      }
      const errors = await this.removeVolumeDirs(uid);
      if (errors.length > 0) {
        errorPods++;
        volumeErrors.push(...errors);
        continue;
      }
      const dir = podDir(rootDir, uid);
      let failed = false;
      for (const sub of await readdir(dir).catch(() => [] as string[])) {
        // The volumes directory is gone by now; anything else (etc-hosts, containers, plugins)
        // holds the kubelet's own files, but never crosses into a mount left inside it.
        await removeAllOneFilesystem(join(dir, sub), this.options.isMountPoint).catch((error: unknown) => {
          failed = true;
          const why = error instanceof MountPointInTheWayError ? error.message : goErrnoText(error);
          removalErrors.push(
            `orphaned pod "${uid}" found, but error occurred when trying to remove subdir "${join(dir, sub)}": ${why}`,
          );
        });
      }
      await rmdir(dir).catch((error: unknown) => {
        failed = true;
        removalErrors.push(
          `orphaned pod "${uid}" found, but error occurred when trying to remove the pod directory: ${goErrnoText(error)}`,
        );
      });
      if (failed) errorPods++;
    }
    for (const errors of [volumeErrors, removalErrors])
      if (errors.length > 0)
        logger.error(
          { err: errors[0], numErrs: errors.length },
          'There were many similar errors. Turn up verbosity to see them.',
        );
    this.cleaned?.set(total);
    this.cleanErrors?.set(errorPods);
  }

  /** Upstream podVolumesExist: volumes held by the volume manager, or mounted under the pod's volume dirs. */
  private async podVolumesExist(uid: string): Promise<boolean> {
    if (this.options.podVolumesHeld(uid)) return true;
    for (const path of await this.volumePaths(uid)) {
      if (await this.options.isMountPoint(path)) return true;
      if (await this.options.isMountPoint(join(path, 'mount'))) return true;
    }
    return false;
  }

  /** `<pod>/volumes/<plugin>/<name>` for every volume directory of the pod. */
  private async volumePaths(uid: string): Promise<string[]> {
    const volumes = podVolumesDir(this.options.rootDir, uid);
    const out: string[] = [];
    for (const plugin of await readdir(volumes).catch(() => [] as string[]))
      for (const name of await readdir(join(volumes, plugin)).catch(() => [] as string[]))
        out.push(join(volumes, plugin, name));
    return out;
  }

  /** Upstream removeOrphanedPodVolumeDirs: rmdir each volume path, then the emptied volumes tree. */
  private async removeVolumeDirs(uid: string): Promise<string[]> {
    const errors: string[] = [];
    for (const path of await this.volumePaths(uid)) {
      try {
        await rmdir(path);
        this.options.logger.info({ podUID: uid, path }, 'Cleaned up orphaned volume from pod');
      } catch (error) {
        errors.push(
          `orphaned pod "${uid}" found, but failed to rmdir() volume at path ${path}: ${goErrnoText(error)}`,
        );
      }
    }
    if (errors.length > 0) return errors;
    const volumes = podVolumesDir(this.options.rootDir, uid);
    if (!(await lstat(volumes).catch(() => undefined))) return errors;
    try {
      await removeEmptyDirs(volumes);
      this.options.logger.info({ podUID: uid, path: volumes }, 'Cleaned up orphaned pod volumes dir');
    } catch (error) {
      errors.push(
        `orphaned pod "${uid}" found, but error occurred when trying to remove the volumes dir: ${goErrnoText(error)}`,
      );
    }
    return errors;
  }
}

/** Removes a tree of directories only (upstream RemoveDirsOneFilesystem): a file in it is an error. */
async function removeEmptyDirs(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTEMPTY' });
    await removeEmptyDirs(join(dir, entry.name));
  }
  await rmdir(dir);
}
