import type { Pod } from '../api/pod-types';
import { podLogDirectory } from '../cri/log-paths';
import type { PodRuntime } from '../cri/pod-runtime';
import type { PodRuntimeStatus } from '../cri/runtime-state';
import { removeTree } from '../remove-tree';

/** Upstream default GC policy: keep one dead instance per container (for lastState and `logs --previous`). */
export const maxPerPodContainer = 1;

/**
 * The dead containers and sandboxes of a live pod that container GC may remove: all exited
 * instances of a container except the newest `keep`, and not-ready sandboxes other than the
 * newest that no longer hold a kept container. For a pod the kubelet no longer knows (deleted),
 * `keepNewestSandbox: false` lets the newest go too once it is not ready (upstream evictSandboxes).
 */
export function evictableRuntimeObjects(
  status: PodRuntimeStatus,
  keep = maxPerPodContainer,
  keepNewestSandbox = true,
): { containers: string[]; sandboxes: string[] } {
  const byName = new Map<string, PodRuntimeStatus['containers']>();
  for (const container of status.containers) {
    const list = byName.get(container.name) ?? [];
    list.push(container);
    byName.set(container.name, list);
  }
  const containers: string[] = [];
  const kept = new Set<string>();
  for (const instances of byName.values()) {
    const sorted = [...instances].sort((a, b) => b.createdAt - a.createdAt);
    let dead = 0;
    for (const instance of sorted) {
      if (instance.state !== 'exited') {
        kept.add(instance.id);
        continue;
      }
      dead++;
      if (dead > keep) containers.push(instance.id);
      else kept.add(instance.id);
    }
  }
  const newestSandbox = [...status.sandboxes].sort((a, b) => b.createdAt - a.createdAt)[0];
  const keptSandboxes = new Set(
    status.containers.filter((c) => kept.has(c.id) && c.sandboxId).map((c) => c.sandboxId as string),
  );
  const sandboxes = status.sandboxes
    .filter((s) => !s.ready && (!keepNewestSandbox || s.id !== newestSandbox?.id) && !keptSandboxes.has(s.id))
    .map((s) => s.id);
  return { containers, sandboxes };
}

/** Removes what evictableRuntimeObjects allows; errors are left for the next round. */
export async function garbageCollectPod(
  runtime: PodRuntime,
  status: PodRuntimeStatus,
  keep = maxPerPodContainer,
  keepNewestSandbox = true,
): Promise<number> {
  const { containers, sandboxes } = evictableRuntimeObjects(status, keep, keepNewestSandbox);
  let removed = 0;
  for (const id of containers) {
    await runtime.removeContainer(id).then(
      () => removed++,
      () => undefined,
    );
  }
  for (const id of sandboxes) {
    await runtime.stopPodSandbox(id).catch(() => undefined);
    await runtime.removePodSandbox(id).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/**
 * Dead containers and dead old sandboxes of every pod the runtime holds; pods `keepsNewest`
 * answers true for keep the newest dead instance of each container, the others none. Upstream
 * DeleteAllUnusedContainers (disk-pressure reclaim) keeps them for pods still running only; its
 * periodic GC for every pod whose content is not to be removed.
 */
export async function garbageCollectAllPods(
  runtime: PodRuntime,
  keepsNewest: (uid: string) => boolean,
  isKnown: (uid: string) => boolean = () => true,
): Promise<number> {
  let removed = 0;
  for (const status of await runtime.listPods()) {
    const keep = keepsNewest(status.uid) ? maxPerPodContainer : 0;
    removed += await garbageCollectPod(runtime, status, keep, isKnown(status.uid));
  }
  return removed;
}

/**
 * Removes every container, then every sandbox, of a stopped pod. Never throws: a runtime that
 * refuses one (containerd: "container is in starting state, can't be removed" right after a
 * restart) is reported through onError and the object is left to the periodic container GC, as
 * upstream, whose pod deletion does not wait for dead containers to be removed. Answers whether
 * everything went.
 */
export async function removePodRuntimeObjects(
  runtime: PodRuntime,
  status: PodRuntimeStatus,
  onError: (error: unknown, id: string) => void,
): Promise<boolean> {
  let complete = true;
  for (const { id } of status.containers) {
    await runtime.removeContainer(id).catch((error) => {
      complete = false;
      onError(error, id);
    });
  }
  for (const { id } of status.sandboxes) {
    await runtime.removePodSandbox(id).catch((error) => {
      complete = false;
      onError(error, id);
    });
  }
  return complete;
}

/**
 * Upstream evictPodLogsDirectories for a pod whose content is removed: its whole
 * `<podLogsDir>/<namespace>_<name>_<uid>` directory (each container's logs went with it already).
 */
export async function removePodLogDirectory(podLogsDir: string, pod: Pod): Promise<void> {
  const { namespace = 'default', name = '', uid = '' } = pod.metadata;
  await removeTree(podLogDirectory(podLogsDir, namespace, name, uid));
}
