import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { findContainer } from '../cri/runtime-state';
import type { Kubelet } from '../kubelet';
import { portForwardPorts, type StreamingTarget, streamOptions } from './streaming-routes';
import type { StreamingRuntime } from './streaming-runtime';
import { proxyUpgrade, writeRawResponse } from './upgrade-proxy';

/** Why a streaming request cannot be served, with the HTTP status upstream answers it with. */
class StreamRefusal {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

/** The runtime's streaming URL for a request: resolves pod and container, then asks the runtime. */
async function streamingUrl(
  kubelet: Kubelet,
  runtime: StreamingRuntime,
  target: StreamingTarget,
  query: URLSearchParams,
): Promise<string | StreamRefusal> {
  const pod = kubelet
    .getPods()
    .find((p) => p.metadata.namespace === target.namespace && p.metadata.name === target.pod);
  if (!pod || (target.uid !== undefined && pod.metadata.uid !== target.uid))
    return new StreamRefusal(404, 'pod does not exist');
  const status = kubelet.runtimeStatus(pod.metadata.uid ?? '');
  if (target.kind === 'portForward') {
    const sandbox = status?.sandboxes.find((s) => s.ready);
    if (!sandbox)
      return new StreamRefusal(404, `pod ${target.namespace}/${target.pod} has no running sandbox`);
    return runtime.portForward(sandbox.id, portForwardPorts(query));
  }
  const name = target.container as string;
  const container = status ? findContainer(status, name) : undefined;
  if (container?.state !== 'running')
    return new StreamRefusal(404, `container not found (${JSON.stringify(name)})`);
  const options = streamOptions(query);
  if (!options.stdin && !options.stdout && !options.stderr)
    return new StreamRefusal(400, 'you must specify at least 1 of stdin, stdout, stderr');
  const { command, ...flags } = options;
  if (target.kind === 'attach') return runtime.attach({ containerId: container.id, ...flags });
  if (command.length === 0) return new StreamRefusal(400, 'you must specify a command (command=...)');
  return runtime.exec({ containerId: container.id, cmd: command, ...flags });
}

/** streamingUrl, with a runtime call that failed answered 500 with its message. */
async function streamingUrlOrRefusal(
  kubelet: Kubelet,
  runtime: StreamingRuntime,
  target: StreamingTarget,
  query: URLSearchParams,
): Promise<string | StreamRefusal> {
  try {
    return await streamingUrl(kubelet, runtime, target, query);
  } catch (error) {
    return new StreamRefusal(500, (error as Error).message);
  }
}

/**
 * Whether an upgrade request is a WebSocket session in the protocols a v1.36 kubelet handles itself
 * with ExtendWebSocketsToKubelet (upstream wsstream IsWebSocketRequestWithStreamCloseProtocol /
 * IsWebSocketRequestWithTunnelingProtocol): exec/attach offering v5.channel.k8s.io (stream close),
 * port forwarding offering a SPDY/3.1+ tunneling subprotocol.
 */
export function isKubeletWebSocketStream(request: IncomingMessage): boolean {
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return false;
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.some((protocol) => protocol === 'v5.channel.k8s.io' || protocol.startsWith('SPDY/3.1+'));
}

/**
 * Serves an already authorized upgrade request for /exec, /attach or /portForward: gets the
 * runtime's streaming URL and proxies the connection there (upstream's default, rather than a
 * redirect the client would have to follow).
 */
export async function serveStreaming(
  kubelet: Kubelet,
  runtime: StreamingRuntime,
  target: StreamingTarget,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://kubelet');
  // Upstream v1.36 kubelet_websocket_streaming_requests_total{subresource}: exec, attach, portforward.
  if (isKubeletWebSocketStream(request))
    kubelet.metrics.websocketStreamingRequests.inc({ subresource: target.kind.toLowerCase() });
  const result = await streamingUrlOrRefusal(kubelet, runtime, target, url.searchParams);
  if (result instanceof StreamRefusal) return writeRawResponse(socket, result.code, `${result.message}\n`);
  proxyUpgrade(request, socket, head, result, url.search, runtime.connect);
}

/**
 * A streaming request that did not ask for a connection upgrade, answered as upstream answers it:
 * the same lookups and runtime call as an upgraded request (a missing pod is still 404), then
 * upstream's upgrade-aware proxy (upgradeRequired) refuses it, and its responder answers every
 * proxy error 500: "Upgrade request required".
 */
export async function refusalWithoutUpgrade(
  kubelet: Kubelet,
  runtime: StreamingRuntime,
  target: StreamingTarget,
  query: URLSearchParams,
): Promise<{ code: number; message: string }> {
  const result = await streamingUrlOrRefusal(kubelet, runtime, target, query);
  return result instanceof StreamRefusal ? result : { code: 500, message: 'Upgrade request required' };
}
