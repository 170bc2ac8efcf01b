import { open, readFile } from 'node:fs/promises';
import {
  ContainerState as CriContainerState,
  type ContainerStatus as CriContainerStatus,
} from '@nodeagent/cri-client/types';
import { renderCriLog } from '../logs/container-log-text';
import {
  containerTerminationMessagePathAnnotation,
  containerTerminationMessagePolicyAnnotation,
} from './labels';

/** Upstream MaxContainerTerminationMessageLength: the tail of the message file that is kept. */
export const maxTerminationMessageLength = 4 * 1024;
/** Upstream MaxContainerTerminationMessageLogLines / LogLength: FallbackToLogsOnError's log tail. */
export const maxTerminationMessageLogLines = 80;
export const maxTerminationMessageLogLength = 2048;

/** The last `max` bytes of a file (upstream tail.ReadAtMost). */
async function readAtMost(path: string, max: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Upstream readLastStringFromContainerLogs: the last 80 lines of the log, at most their last 2048 bytes. */
async function lastLogLines(logPath: string): Promise<string> {
  try {
    const text = renderCriLog(await readFile(logPath, 'utf8'), { tailLines: maxTerminationMessageLogLines });
    const bytes = Buffer.from(text, 'utf8');
    return bytes.subarray(Math.max(0, bytes.length - maxTerminationMessageLogLength)).toString('utf8');
  } catch (error) {
    return `Error on reading termination message from logs: ${(error as Error).message}`;
  }
}

/**
 * Upstream toKubeContainerStatus' termination message for an exited container: the file mounted
 * at terminationMessagePath (its last 4 KiB); with FallbackToLogsOnError, when the container
 * failed (exit code ≠ 0, not ContainerCannotRun) and the file is empty or missing, the tail of
 * its log instead. Appended to the runtime's own message after ": ".
 */
export async function terminationMessage(status: CriContainerStatus): Promise<string> {
  if (status.state !== CriContainerState.CONTAINER_EXITED) return status.message;
  const path = status.annotations[containerTerminationMessagePathAnnotation] ?? '';
  const fallbackToLogs =
    status.annotations[containerTerminationMessagePolicyAnnotation] === 'FallbackToLogsOnError' &&
    status.exitCode !== 0 &&
    status.reason !== 'ContainerCannotRun';
  let message = '';
  let checkLogs = fallbackToLogs;
  const mount = path ? status.mounts.find((m) => m.containerPath === path) : undefined;
  if (mount) {
    try {
      message = await readAtMost(mount.hostPath, maxTerminationMessageLength);
      checkLogs = fallbackToLogs && message.length === 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        message = `Error on reading termination log ${mount.hostPath}: ${(error as Error).message}`;
        checkLogs = false;
      }
    }
  }
  if (checkLogs && status.logPath) message = await lastLogLines(status.logPath);
  if (message.length === 0) return status.message;
  return status.message ? `${status.message}: ${message}` : message;
}
