import { rm } from 'node:fs/promises';
import { rotatedSiblings } from './rotated-log-files';

/** The CRI call that locates a container's log (a CriClient satisfies it). */
export interface ContainerLogLocator {
  containerStatus(request: {
    containerId: string;
    verbose: boolean;
  }): Promise<{ status?: { logPath: string } | null }>;
}

/**
 * Removes every file of a container's log — the current one, rotated and compressed ones,
 * leftovers of an interrupted rotation — as upstream's log manager Clean (`<logPath>*`). The
 * runtime (containerd) leaves them behind when it removes the container.
 */
export async function removeContainerLogs(runtime: ContainerLogLocator, containerId: string): Promise<void> {
  const { status } = await runtime.containerStatus({ containerId, verbose: false });
  if (!status) throw new Error(`container status is nil for "${containerId}"`);
  await removeLogFiles(status.logPath);
}

/** `log` and its rotated siblings; nothing for a container without a log (empty path). */
export async function removeLogFiles(log: string): Promise<void> {
  // An empty path would make the sibling search run over the working directory.
  if (!log) return;
  for (const file of [log, ...(await rotatedSiblings(log))]) await rm(file, { force: true });
}
