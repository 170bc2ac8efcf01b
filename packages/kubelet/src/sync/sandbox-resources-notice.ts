import { isUnimplemented } from '@nodeagent/cri-client';
import type { Pod } from '../api/pod-types';
import type { CgroupFilesystem } from '../cgroups/cgroup-filesystem';
import type { CgroupResources } from '../cgroups/cgroup-resources';
import { readPodCgroupConfig } from '../cgroups/pod-cgroup-resize';
import { goErrorText } from '../cri/go-grpc-error';
import type { PodRuntime } from '../cri/pod-runtime';
import type { SandboxResourceOptions } from '../cri/sandbox-resources';
import { type PodCgroupValues, updatePodSandboxResourcesRequest } from '../cri/sandbox-resources-update';
import type { KubeletLogger } from '../kubelet-logger';

/** What telling the runtime a pod's resources takes. */
export interface SandboxResourcesNotice {
  runtime: Required<Pick<PodRuntime, 'updatePodSandboxResources'>>;
  /** The pod's sandbox (upstream podContainerChanges.SandboxID). */
  sandboxId: string;
  pod: Pod;
  options: SandboxResourceOptions;
  logger?: KubeletLogger;
}

/**
 * Upstream updatePodSandboxResources: one CRI UpdatePodSandboxResources. The runtime's error is
 * logged as the CRI client logs it; UNIMPLEMENTED (containerd 1.6 and 2.1) only leaves a line,
 * with upstream's wording, and the resize goes on; any other error is the resize's.
 */
export async function updatePodSandboxResources(
  notice: SandboxResourcesNotice,
  podCgroup: PodCgroupValues,
): Promise<void> {
  const { sandboxId, logger } = notice;
  try {
    await notice.runtime.updatePodSandboxResources(
      updatePodSandboxResourcesRequest(sandboxId, notice.pod, podCgroup, notice.options),
    );
  } catch (error) {
    logger?.error(
      { err: goErrorText(error), podSandboxID: sandboxId },
      'UpdatePodSandboxResources from runtime service failed',
    );
    if (isUnimplemented(error)) {
      logger?.info(
        { sandboxID: sandboxId },
        'updatePodSandboxResources failed: unimplemented; this call is best-effort: proceeding with resize',
      );
      return;
    }
    // Go's %q of the id; "sanboxID" is upstream's spelling.
    throw new Error(
      `updatePodSandboxResources failed for sanboxID ${JSON.stringify(sandboxId)}: ${goErrorText(error)}`,
    );
  }
}

/**
 * The pod cgroup's CPU and memory settings as upstream's GetPodCgroupConfig reads them: the
 * memory limit as the file holds it (cgroup v1's "no limit" is a number; v2's "max" is -1).
 */
async function readPodCgroupValues(fs: CgroupFilesystem, path: string): Promise<PodCgroupValues> {
  const config = await readPodCgroupConfig(fs, path);
  const memory = (await fs.read(path, fs.version === 1 ? 'memory.limit_in_bytes' : 'memory.max')).trim();
  return {
    cpuShares: config.cpuShares,
    cpuQuotaUs: config.cpuQuotaUs,
    cpuPeriodUs: config.cpuPeriodUs,
    memoryLimitBytes: memory === 'max' ? -1n : BigInt(memory),
  };
}

/** The settings a pod cgroup write changes, over the ones the cgroup held. */
function merged(current: PodCgroupValues, written: CgroupResources): PodCgroupValues {
  const out = { ...current };
  if (written.cpuShares !== undefined) out.cpuShares = written.cpuShares;
  if (written.cpuQuotaUs !== undefined) out.cpuQuotaUs = written.cpuQuotaUs;
  if (written.cpuPeriodUs !== undefined) out.cpuPeriodUs = written.cpuPeriodUs;
  if (written.memoryLimitBytes !== undefined) out.memoryLimitBytes = BigInt(written.memoryLimitBytes);
  return out;
}

/**
 * The cgroup filesystem a resize writes the pod cgroup through, with upstream v1.36's order
 * around each write (setPodCgroupConfig): the runtime is told the pod's resources with that
 * write applied first, and may refuse them (the resize fails, the cgroup is left as it was);
 * a write that then fails is told back with the resources the cgroup still holds. What the pod
 * cgroup holds is read once, before the first write, then followed as the writes go.
 */
export function noticingPodCgroupWrites(
  fs: CgroupFilesystem,
  podPath: string,
  notice: SandboxResourcesNotice,
): CgroupFilesystem {
  let current: PodCgroupValues | undefined;
  return {
    version: fs.version,
    exists: (path) => fs.exists(path),
    children: (path) => fs.children(path),
    remove: (path) => fs.remove(path),
    read: (path, file) => fs.read(path, file),
    async ensure(path, resources) {
      if (path !== podPath || resources === undefined) return fs.ensure(path, resources);
      current ??= await readPodCgroupValues(fs, podPath);
      const before = current;
      const after = merged(before, resources);
      await updatePodSandboxResources(notice, after);
      try {
        await fs.ensure(path, resources);
      } catch (error) {
        await updatePodSandboxResources(notice, before).catch((revertError: unknown) =>
          notice.logger?.error(
            { err: String(revertError), pod: notice.pod.metadata.name },
            'Failed to revert pod sandbox resources',
          ),
        );
        throw error;
      }
      current = after;
    },
  };
}
