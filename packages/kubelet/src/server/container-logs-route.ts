import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContainerStatus, Pod, PodStatus } from '../api/pod-types';
import { findContainer } from '../cri/runtime-state';
import type { Kubelet } from '../kubelet';
import { containerLogFile, type LogOptions, streamContainerLogText } from '../logs/container-log-text';
import type { OpenLogFile } from '../logs/log-reader';
import { openContained } from './contained-file';
import type { RequestTarget } from './go-serve-mux';
import { writeRestfulError } from './restful-answers';

function send(response: ServerResponse, code: number, body: string): void {
  response.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(body);
}

function specHas(pod: Pod, name: string): boolean {
  return [
    ...pod.spec.containers,
    ...(pod.spec.initContainers ?? []),
    ...(pod.spec.ephemeralContainers ?? []),
  ].some((c) => c.name === name);
}

function statusOf(status: PodStatus | undefined, name: string): ContainerStatus | undefined {
  return [
    ...(status?.containerStatuses ?? []),
    ...(status?.initContainerStatuses ?? []),
    ...(status?.ephemeralContainerStatuses ?? []),
  ].find((c) => c.name === name);
}

/**
 * Why a container has no log yet, as upstream validateContainerLogStatus words it (answered 400):
 * the waiting reason of a container that never started, with its wording for image pulls.
 */
export function notStartedMessage(
  status: ContainerStatus | undefined,
  container: string,
  pod: string,
): string {
  if (!status) return `container "${container}" in pod "${pod}" is not available`;
  const reason = status.state.waiting?.reason;
  if (reason === 'ErrImagePull')
    return `container "${container}" in pod "${pod}" is waiting to start: image can't be pulled`;
  if (reason === 'ImagePullBackOff')
    return `container "${container}" in pod "${pod}" is waiting to start: trying and failing to pull image`;
  if (status.state.waiting)
    return `container "${container}" in pod "${pod}" is waiting to start: ${reason ?? ''}`;
  return `container "${container}" in pod "${pod}" is waiting to start - no logs yet`;
}

/**
 * The container instance whose log upstream's validateContainerLogStatus picks from the pod's
 * status: with `previous` the last termination's; else the running one, the terminated one (or,
 * terminated without an ID, the one before), or a waiting container's last termination. So the
 * log of the attempt that just ended is read, not that of the next attempt the runtime has
 * created and not yet started (no log file yet). The runtime's ID without the `<runtime>://`.
 */
export function containerIdFromStatus(
  status: ContainerStatus | undefined,
  previous: boolean,
): string | undefined {
  if (!status) return undefined;
  const last = status.lastState.terminated?.containerID;
  const { running, terminated } = status.state;
  const id = previous
    ? last
    : running
      ? status.containerID
      : terminated
        ? terminated.containerID || last
        : last;
  if (!id) return undefined;
  const scheme = id.indexOf('://');
  return scheme < 0 ? id : id.slice(scheme + 3);
}

/** A log file the reader may not read: planted as a symlink, or resolving outside podLogsDir. */
class LogFileRefusedError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.code = code;
  }
}

/**
 * Opens a file of the container log only when it is no symlink itself (O_NOFOLLOW: ELOOP, the
 * runtime writes its logs as regular files) and its real path is under podLogsDir (a directory
 * on the way replaced by a symlink); otherwise throws why, worded as upstream's ReadLogs words an
 * open error. Every file the reader opens (current, rotated, the next after a rotation) goes
 * through it.
 */
function containedLogOpener(podLogsDir: string): OpenLogFile {
  return async (file) => {
    const opened = await openContained(podLogsDir, file, false);
    if ('handle' in opened) return opened.handle;
    const prefix = `failed to open log file ${JSON.stringify(file)}`;
    if (opened.refused === 'outside')
      throw new LogFileRefusedError(
        `${prefix}: ${file} resolves to ${opened.realPath}, outside ${podLogsDir}`,
        'EXDEV',
      );
    if (opened.error.code === 'ENOENT') throw opened.error;
    const reason = opened.error.code === 'ELOOP' ? 'too many levels of symbolic links' : opened.error.message;
    throw new LogFileRefusedError(`${prefix}: open ${file}: ${reason}`, opened.error.code);
  };
}

/**
 * The current log file, opened and checked (containedLogOpener) before anything is answered:
 * the handle, kept and handed to the reader, so the file read is the one checked (a swap of the
 * path after the check reads nothing of the new target); none when the file is missing (the
 * reader then looks for a rotated one, through the same opener); or the refusal's text.
 */
async function openCheckedLog(
  openFile: OpenLogFile,
  file: string,
): Promise<{ handle?: FileHandle } | { refusal: string }> {
  try {
    return { handle: await openFile(file) };
  } catch (error) {
    if (error instanceof LogFileRefusedError) return { refusal: error.message };
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** Test seams: `checked` runs between the log file's check and its read. */
export interface ContainerLogSeams {
  checked?: () => Promise<void>;
}

/** kubectl logs' query (tailLines, sinceSeconds/sinceTime, timestamps) as LogOptions. */
function logOptions(query: URLSearchParams, now: number): LogOptions {
  const tail = query.get('tailLines');
  const since = query.get('sinceSeconds');
  const sinceTime = query.get('sinceTime');
  return {
    tailLines: tail !== null ? Number(tail) : undefined,
    // sinceSeconds wins over sinceTime, as upstream's log options validation allows only one.
    sinceMs:
      since !== null ? now - Number(since) * 1000 : sinceTime !== null ? Date.parse(sinceTime) : undefined,
    timestamps: query.get('timestamps') === 'true',
  };
}

/**
 * /containerLogs/{namespace}/{pod}/{container}: the container's CRI log as `kubectl logs` shows
 * it (tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, previous, follow), streamed
 * with backpressure so a GiB log never sits in memory.
 */
export async function serveContainerLogs(
  kubelet: Kubelet,
  podLogsDir: string,
  target: { namespace: string; pod: string; container: string },
  url: RequestTarget,
  request: IncomingMessage,
  response: ServerResponse,
  seams: ContainerLogSeams = {},
): Promise<void> {
  const { namespace, pod: podName, container: containerName } = target;
  const pod = kubelet
    .getPods()
    .find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
  if (!pod) return send(response, 404, `pod ${namespace}/${podName} not found\n`);
  const uid = pod.metadata.uid ?? '';
  const runtime = kubelet.runtimeStatus(uid);
  const current = runtime ? findContainer(runtime, containerName) : undefined;
  if (!current) {
    if (!specHas(pod, containerName))
      return send(response, 404, `container ${containerName} in pod ${podName} not found\n`);
    // Named in the spec but never started: upstream answers 400 with the waiting reason.
    const message = notStartedMessage(
      statusOf(kubelet.getPodStatus(uid), containerName),
      containerName,
      podName,
    );
    return send(response, 400, `${message}\n`);
  }
  const previous = url.searchParams.get('previous') === 'true';
  // The instance the pod's status names, when the runtime still holds it; else the newest one.
  const namedId = containerIdFromStatus(statusOf(kubelet.getPodStatus(uid), containerName), previous);
  const named = namedId ? runtime?.containers.find((c) => c.id === namedId) : undefined;
  const restartCount = named
    ? named.restartCount
    : previous
      ? current.restartCount - 1
      : current.restartCount;
  if (restartCount < 0)
    return send(
      response,
      400,
      `previous terminated container "${containerName}" in pod "${podName}" not found\n`,
    );
  const file = containerLogFile(podLogsDir, namespace, podName, uid, containerName, restartCount);
  const openFile = containedLogOpener(podLogsDir);
  const checked = await openCheckedLog(openFile, file);
  // upstream's getContainerLogs answers a ReadLogs error 400 with its text (WriteError).
  if ('refusal' in checked) return writeRestfulError(response, 400, checked.refusal);
  try {
    await seams.checked?.();
  } catch (error) {
    await checked.handle?.close();
    throw error;
  }
  const options = logOptions(url.searchParams, Date.now());
  const follow = url.searchParams.get('follow') === 'true' && !previous;

  // limitBytes: stop after that many bytes of output (upstream's LimitWriter).
  const limit = Number(url.searchParams.get('limitBytes'));
  let budget = limit > 0 ? limit : Number.POSITIVE_INFINITY;
  const abort = new AbortController();
  request.on('close', () => abort.abort());
  response.on('close', () => abort.abort());
  response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Transfer-Encoding': 'chunked' });
  const write = async (text: string) => {
    if (abort.signal.aborted || text === '') return;
    let bytes = Buffer.from(text);
    if (bytes.length >= budget) {
      bytes = bytes.subarray(0, budget);
      abort.abort();
    }
    budget -= bytes.length;
    if (!response.write(bytes))
      await new Promise<void>((resolve) => {
        const done = () => {
          response.off('drain', done);
          response.off('close', done);
          resolve();
        };
        response.on('drain', done);
        response.on('close', done);
      });
  };
  try {
    await streamContainerLogText(file, options, write, abort.signal, follow ? {} : undefined, {
      current: checked.handle,
      openFile,
    });
  } catch (error) {
    // Headers are out: the body ends early, as upstream's stream does on a read error (a
    // rotated file found planted is one).
    if (!(error instanceof LogFileRefusedError) && (error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw error;
  } finally {
    response.end();
  }
}
