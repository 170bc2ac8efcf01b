import type { IncomingMessage, ServerResponse } from 'node:http';
import { goQuote } from '@nodeagent/primitives/go-text';
import { goErrorText } from '../cri/go-grpc-error';
import type { Kubelet } from '../kubelet';
import type { ContainerDebugRuntime } from './debug-runtime';
import { formValue } from './form-value';
import type { RequestTarget } from './go-serve-mux';
import { restfulNotFound, routeSegments, writeJsonBytes, writeRestfulError } from './restful-answers';
import { kubeletRoutes, refuseForRoute } from './restful-negotiation';

/** A pod's container as the server's routes name it: namespace, pod name, container. */
export interface ContainerTarget {
  /** The pod's namespace. */
  namespace: string;
  /** The pod's name. */
  pod: string;
  /** The container's name. */
  container: string;
}

/**
 * upstream's findContainer: the runtime's running container of that name in the first runtime
 * pod with that namespace and name (the pod's full name decides; a uid in the path does not).
 */
export function runningContainerId(kubelet: Kubelet, target: ContainerTarget): string | undefined {
  const pod = kubelet.runtimePods().find((p) => p.namespace === target.namespace && p.name === target.pod);
  return pod?.containers.find((c) => c.name === target.container && c.state === 'running')?.id;
}

/**
 * upstream's RunInContainer: ExecSync's stdout then stderr, or the error Go's remote runtime
 * makes: a non-zero exit is `command '<cmd>' exited with <code>: <stderr>`, a refused call
 * Go's gRPC error text.
 */
async function runInContainer(
  runtime: ContainerDebugRuntime,
  containerId: string,
  cmd: string[],
  signal: AbortSignal,
): Promise<Buffer | Error> {
  try {
    const output = await runtime.execSync(containerId, cmd, signal);
    if (output.exitCode !== 0)
      return new Error(`command '${cmd.join(' ')}' exited with ${output.exitCode}: ${output.stderr}`);
    return Buffer.concat([output.stdout, output.stderr]);
  } catch (error) {
    return new Error(goErrorText(error));
  }
}

/**
 * POST /run/{namespace}/{pod}/{container} and /run/{namespace}/{pod}/{uid}/{container} as
 * upstream's getRun answers them: the command is the `cmd` parameter (a urlencoded body's, the
 * query's, or a multipart body's, in that order: go-restful reads it with Go's FormValue) split
 * at spaces;
 * a pod the kubelet does not hold is 404 `pod does not exist`; a container not running 500
 * `container not found ("<name>")`; a command that fails 500 with Go's error; otherwise 200
 * with the output (application/json, as upstream labels it; nothing at all when it is empty).
 * Other methods are 405 and other path shapes go-restful's 404.
 */
export async function serveRun(
  kubelet: Kubelet,
  runtime: ContainerDebugRuntime,
  url: RequestTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const segments = routeSegments(url.pathname, '/run');
  if (!segments || (segments.length !== 3 && segments.length !== 4)) return restfulNotFound(response);
  if (refuseForRoute(request, response, kubeletRoutes.run)) return;
  const [namespace, pod] = segments as [string, string];
  const container = segments[segments.length - 1] as string;
  if (!kubelet.getPods().some((p) => p.metadata.namespace === namespace && p.metadata.name === pod))
    return writeRestfulError(response, 404, 'pod does not exist');
  // For legacy reasons /run reads `cmd` (exec reads `command`), split at every space.
  const cmd = (await formValue(request, url, 'cmd')).split(' ');
  const containerId = runningContainerId(kubelet, { namespace, pod, container });
  if (!containerId) return writeRestfulError(response, 500, `container not found (${goQuote(container)})`);
  const gone = new AbortController();
  response.on('close', () => gone.abort());
  const output = await runInContainer(runtime, containerId, cmd, gone.signal);
  if (output instanceof Error) return writeRestfulError(response, 500, output.message);
  writeJsonBytes(response, output);
}
