import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { goParseInt } from '@nodeagent/primitives/go-text';
import type { Pod } from '../api/pod-types';
import { goErrorText } from '../cri/go-grpc-error';
import type { Kubelet } from '../kubelet';
import type { ContainerDebugRuntime } from './debug-runtime';
import type { RequestTarget } from './go-serve-mux';
import { restfulNotFound, routeSegments, writeJsonBytes, writeRestfulError } from './restful-answers';
import { kubeletRoutes, refuseForRoute } from './restful-negotiation';
import { runningContainerId } from './run-route';

/** Go's time.Now().Format(time.RFC3339) in the local zone: `2026-11-25T12:00:00Z` or `…+01:00`. */
export function goRfc3339Local(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone =
    offset === 0
      ? 'Z'
      : `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
  );
}

/**
 * Where upstream's CheckpointContainer asks the runtime to write the archive:
 * `<rootDir>/checkpoints/checkpoint-<pod>_<namespace>-<container>-<RFC 3339 local time>.tar`.
 */
export function checkpointLocation(
  checkpointsDir: string,
  pod: { namespace: string; pod: string; container: string },
  now: Date,
): string {
  return join(
    checkpointsDir,
    `checkpoint-${pod.pod}_${pod.namespace}-${pod.container}-${goRfc3339Local(now)}.tar`,
  );
}

/** Whether the pod's spec names the container (containers, init containers or ephemeral containers). */
function specHasContainer(pod: Pod, name: string): boolean {
  const { containers, initContainers, ephemeralContainers } = pod.spec;
  return [...containers, ...(initContainers ?? []), ...(ephemeralContainers ?? [])].some(
    (container) => container.name === name,
  );
}

/**
 * The `timeout` query parameter as upstream reads it: the last value, a Go int64; undefined
 * when it is not one (upstream answers that 404).
 */
function checkpointTimeout(query: URLSearchParams): number | undefined {
  const values = query.getAll('timeout');
  if (values.length === 0) return 0;
  const parsed = goParseInt(values[values.length - 1] as string, 64);
  return 'value' in parsed ? Number(parsed.value) : undefined;
}

/**
 * Runs the checkpoint as upstream's Kubelet.CheckpointContainer: the running container (by the
 * pod's full name), the archive's location, then CRI CheckpointContainer. Resolves to the
 * location, or to the error's text.
 */
async function checkpointContainer(
  kubelet: Kubelet,
  runtime: ContainerDebugRuntime,
  target: { namespace: string; pod: string; container: string },
  timeout: number,
): Promise<{ location: string } | { error: string }> {
  const containerId = runningContainerId(kubelet, target);
  if (!containerId) return { error: `container ${target.container} not found` };
  const location = checkpointLocation(kubelet.checkpointsDir(), target, new Date());
  try {
    await runtime.checkpointContainer({ containerId, location, timeout });
    return { location };
  } catch (error) {
    return { error: goErrorText(error) };
  }
}

/**
 * POST /checkpoint/{namespace}/{pod}/{container} as upstream's checkpoint handler answers it
 * (feature gate ContainerCheckpoint): 404 `pod does not exist` for a pod the kubelet does not
 * hold, 404 `container <name> does not exist` for a name its spec lacks, 404 `cannot parse value
 * of timeout parameter`, 500 `checkpointing of <ns>/<pod>/<container> failed (<error>)` when the
 * container is not running or the runtime refuses (containerd before 2.0: `rpc error: code =
 * Unimplemented desc = …`), and 200 `{"items":["<archive path>"]}` once the runtime wrote it.
 */
export async function serveCheckpoint(
  kubelet: Kubelet,
  runtime: ContainerDebugRuntime,
  url: RequestTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const segments = routeSegments(url.pathname, '/checkpoint');
  if (segments?.length !== 3) return restfulNotFound(response);
  if (refuseForRoute(request, response, kubeletRoutes.checkpoint)) return;
  const [namespace, podName, container] = segments as [string, string, string];
  const pod = kubelet
    .getPods()
    .find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
  if (!pod) return writeRestfulError(response, 404, 'pod does not exist');
  if (!specHasContainer(pod, container))
    return writeRestfulError(response, 404, `container ${container} does not exist`);
  const timeout = checkpointTimeout(url.searchParams);
  if (timeout === undefined)
    return writeRestfulError(response, 404, 'cannot parse value of timeout parameter');
  const result = await checkpointContainer(kubelet, runtime, { namespace, pod: podName, container }, timeout);
  if ('error' in result)
    return writeRestfulError(
      response,
      500,
      `checkpointing of ${namespace}/${podName}/${container} failed (${result.error})`,
    );
  writeJsonBytes(response, `{"items":["${result.location}"]}`);
}
