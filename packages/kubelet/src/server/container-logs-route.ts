import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ContainerStatus, Pod, PodStatus } from '../api/pod-types';
import { findContainer } from '../cri/runtime-state';
import type { Kubelet } from '../kubelet';
import { containerLogFile, type LogOptions, streamContainerLogText } from '../logs/container-log-text';
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
 * Why the log file may not be read, or undefined: it (or a directory on its way) was replaced by
 * a symlink. The runtime writes the log as a regular file under podLogsDir, so a symlink as the
 * file itself is refused (O_NOFOLLOW: ELOOP) and so is a real path outside podLogsDir; a missing
 * file is left to the reader (an empty log). Worded as upstream's ReadLogs words an open error.
 * The reader opens the path again after this check: a swap in that window is not caught here.
 */
async function symlinkRefusal(podLogsDir: string, file: string): Promise<string | undefined> {
  const opened = await openContained(podLogsDir, file, false);
  if ('handle' in opened) {
    await opened.handle.close();
    return undefined;
  }
  const prefix = `failed to open log file ${JSON.stringify(file)}`;
  if (opened.refused === 'outside')
    return `${prefix}: ${file} resolves to ${opened.realPath}, outside ${podLogsDir}`;
  if (opened.error.code === 'ENOENT') return undefined;
  if (opened.error.code === 'ELOOP') return `${prefix}: open ${file}: too many levels of symbolic links`;
  return `${prefix}: open ${file}: ${opened.error.message}`;
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
  const restartCount = previous ? current.restartCount - 1 : current.restartCount;
  if (restartCount < 0)
    return send(
      response,
      400,
      `previous terminated container "${containerName}" in pod "${podName}" not found\n`,
    );
  const file = containerLogFile(podLogsDir, namespace, podName, uid, containerName, restartCount);
  const refusal = await symlinkRefusal(podLogsDir, file);
  // upstream's getContainerLogs answers a ReadLogs error 400 with its text (WriteError).
  if (refusal) return writeRestfulError(response, 400, refusal);
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
    await streamContainerLogText(file, options, write, abort.signal, follow ? {} : undefined);
  } catch (error) {
    // Headers are out: the body ends early, as upstream's stream does on a read error.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    response.end();
  }
}
