import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest } from './api-error';
import { type ApiRequest, type ApiResponse, sendHeadersNow } from './http-exchange';
import type { KubeObject } from './kube-object';
import {
  type KubeletClientOptions,
  type KubeletLocation,
  kubeletGet,
  kubeletLocationForPod,
  kubeletSocket,
} from './kubelet-connection';
import type { ResourceRegistry } from './resource-registry';
import { spdyTunnelProtocol, tunnelSpdyOverWebSocket } from './websocket-spdy-tunnel';
import { translateWebSocketToSpdy, webSocketV5Protocol } from './websocket-stream-translator';

/** Pod subresources the API server serves by proxying to the pod's kubelet. */
export const POD_PROXY_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;
/** A pod subresource the server proxies to the node's kubelet. */
export type PodProxySubresource = (typeof POD_PROXY_SUBRESOURCES)[number];

export function isPodProxySubresource(value: string | undefined): value is PodProxySubresource {
  return (POD_PROXY_SUBRESOURCES as readonly string[]).includes(value ?? '');
}

/**
 * WebSocket subprotocols the kubelet and the runtime's streaming server speak, proxied as they
 * are. kubectl's v5.channel.k8s.io (exec, attach) and SPDY/3.1+portforward.k8s.io are handled
 * like kube-apiserver 1.30+ does, towards the kubelet over SPDY; anything else is refused before
 * proxying, which kubectl takes as "the server is older" and retries over SPDY/3.1.
 */
const passThroughWebSocketProtocols: Record<string, string[]> = {
  exec: [
    'v4.channel.k8s.io',
    'v3.channel.k8s.io',
    'v2.channel.k8s.io',
    'channel.k8s.io',
    'base64.channel.k8s.io',
  ],
  attach: [
    'v4.channel.k8s.io',
    'v3.channel.k8s.io',
    'v2.channel.k8s.io',
    'channel.k8s.io',
    'base64.channel.k8s.io',
  ],
  portforward: ['portforward.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'],
};

/** How this server answered one pods/exec, /attach or /portforward upgrade (ApiServer.podStreams). */
export interface PodStreamUpgrade {
  readonly subresource: Exclude<PodProxySubresource, 'log'>;
  readonly namespace: string;
  readonly pod: string;
  /** What the client asked to upgrade to. */
  readonly transport: 'websocket' | 'spdy';
  /**
   * The WebSocket subprotocol this server accepted from the client (it then speaks SPDY/3.1 to
   * the kubelet itself); undefined when the upgrade was proxied to the kubelet unchanged.
   */
  readonly clientProtocol: string | undefined;
  /** The stream protocol the kubelet answered this server over SPDY/3.1; undefined when proxied unchanged. */
  readonly kubeletProtocol: string | undefined;
}

interface PodSpecView {
  containers?: { name: string }[];
  initContainers?: { name: string }[];
  ephemeralContainers?: { name: string }[];
}

/** The container a request names, or the pod's default one (annotation, or the only container). */
function containerFor(pod: KubeObject, requested: string | null): string {
  const spec = (pod.spec ?? {}) as PodSpecView;
  const main = (spec.containers ?? []).map((c) => c.name);
  const all = [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ].map((c) => c.name);
  const name = pod.metadata.name as string;
  if (requested) {
    if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  if (annotated && all.includes(annotated)) return annotated;
  if (main.length === 1) return main[0] as string;
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${main.join(' ')}]`);
}

const isTrue = (q: URLSearchParams, name: string) => q.get(name) === 'true' || q.get(name) === '1';

/**
 * The kubelet path and query for a pod subresource request, as kube-apiserver's pod strategy
 * builds them: /containerLogs/{ns}/{pod}/{container}, /exec|/attach/{ns}/{pod}/{container} with
 * input/output/error/tty=1 and command=..., /portForward/{ns}/{pod} with port=....
 */
export function kubeletPathFor(
  pod: KubeObject,
  subresource: PodProxySubresource,
  q: URLSearchParams,
): string {
  const ns = encodeURIComponent(pod.metadata.namespace as string);
  const name = encodeURIComponent(pod.metadata.name as string);
  const params = new URLSearchParams();
  if (subresource === 'portforward') {
    for (const port of q.getAll('ports').flatMap((p) => p.split(','))) {
      const n = Number(port);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw badRequest(`invalid port ${port}`);
      params.append('port', String(n));
    }
    const query = params.toString();
    return `/portForward/${ns}/${name}${query ? `?${query}` : ''}`;
  }
  const container = encodeURIComponent(containerFor(pod, q.get('container')));
  if (subresource === 'log') {
    for (const flag of ['follow', 'previous', 'timestamps']) if (isTrue(q, flag)) params.set(flag, 'true');
    for (const value of ['sinceSeconds', 'sinceTime', 'tailLines', 'limitBytes']) {
      const v = q.get(value);
      if (v !== null && v !== '') params.set(value, v);
    }
    const query = params.toString();
    return `/containerLogs/${ns}/${name}/${container}${query ? `?${query}` : ''}`;
  }
  const stdin = isTrue(q, 'stdin');
  const stdout = isTrue(q, 'stdout');
  const stderr = isTrue(q, 'stderr');
  if (!stdin && !stdout && !stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (stdin) params.set('input', '1');
  if (stdout) params.set('output', '1');
  if (stderr) params.set('error', '1');
  if (isTrue(q, 'tty')) params.set('tty', '1');
  if (subresource === 'exec') {
    const command = q.getAll('command');
    if (command.length === 0) throw badRequest('you must specify at least one command for the container');
    for (const c of command) params.append('command', c);
  }
  return `/${subresource}/${ns}/${name}/${container}?${params.toString()}`;
}

/** GET pods/{name}/log: the kubelet's /containerLogs answer, streamed (follow keeps it open). */
export function servePodLog(
  registry: ResourceRegistry,
  kubelet: KubeletClientOptions,
  pod: KubeObject,
  q: URLSearchParams,
  req: ApiRequest,
  res: ApiResponse,
): Promise<void> {
  const path = kubeletPathFor(pod, 'log', q);
  return serveKubeletGet(kubeletLocationForPod(registry, pod, kubelet), path, kubelet, req, res);
}

/**
 * A GET passed to a kubelet and its answer streamed back: 200 bodies as they come (until the
 * kubelet or the client ends), anything else as a Status with the kubelet's code and text.
 */
export async function serveKubeletGet(
  location: KubeletLocation,
  path: string,
  kubelet: KubeletClientOptions,
  req: ApiRequest,
  res: ApiResponse,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => abort.abort());
  req.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const answer = await kubeletGet(location, path, kubelet, abort.signal);
  await throwUnlessOk(answer);
  // No Transfer-Encoding: Node chunks an HTTP/1.1 answer without a length itself, and HTTP/2
  // forbids the header (the compat API throws on it).
  res.writeHead(200, { 'Content-Type': String(answer.headers['content-type'] ?? 'text/plain') });
  sendHeadersNow(res);
  answer.pipe(res);
  await new Promise<void>((resolve) => {
    answer.on('end', resolve);
    answer.on('error', () => resolve());
    res.on('close', resolve);
  });
}

/** A kubelet answer other than 200 becomes a Status with the kubelet's code and text. */
export async function throwUnlessOk(answer: IncomingMessage): Promise<void> {
  const code = answer.statusCode ?? 502;
  if (code === 200) return;
  let text = '';
  for await (const chunk of answer) text += chunk;
  throw new ApiError(
    code,
    code === 404 ? 'NotFound' : code === 400 ? 'BadRequest' : 'InternalError',
    text.trim(),
  );
}

/** A Status failure written on a socket handed over for an upgrade. */
export function writeRawStatus(socket: Duplex, error: ApiError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toStatus());
  socket.end(
    `HTTP/1.1 ${error.code} ${STATUS_CODES[error.code] ?? ''}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** Hop-by-hop and credentials: not passed to the kubelet (the API server authenticates itself). */
const dropped = new Set(['host', 'authorization', 'proxy-authorization', 'content-length', 'cookie']);

/**
 * pods/{name}/exec, /attach, /portforward: an upgrade request (SPDY/3.1, or WebSocket with a
 * subprotocol the kubelet side speaks) proxied byte for byte to the kubelet's streaming
 * endpoint; the kubelet's answer (101 and the stream, or an error) goes back unchanged.
 * Returns how the upgrade was answered.
 */
export async function servePodStream(
  registry: ResourceRegistry,
  kubelet: KubeletClientOptions,
  pod: KubeObject,
  subresource: Exclude<PodProxySubresource, 'log'>,
  q: URLSearchParams,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<PodStreamUpgrade> {
  const websocket = String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
  const upgrade = (clientProtocol?: string, kubeletProtocol?: string): PodStreamUpgrade => ({
    subresource,
    namespace: String(pod.metadata.namespace ?? ''),
    pod: String(pod.metadata.name ?? ''),
    transport: websocket ? 'websocket' : 'spdy',
    clientProtocol,
    kubeletProtocol,
  });
  if (websocket) {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    if (subresource !== 'portforward' && offered.includes(webSocketV5Protocol)) {
      const path = kubeletPathFor(pod, subresource, q);
      const location = kubeletLocationForPod(registry, pod, kubelet);
      const flags = {
        stdin: isTrue(q, 'stdin'),
        stdout: isTrue(q, 'stdout'),
        stderr: isTrue(q, 'stderr'),
        tty: isTrue(q, 'tty'),
      };
      const answered = await translateWebSocketToSpdy(req, socket, head, location, kubelet, path, flags);
      return upgrade(webSocketV5Protocol, answered);
    }
    if (subresource === 'portforward' && offered.includes(spdyTunnelProtocol)) {
      const path = kubeletPathFor(pod, subresource, q);
      const location = kubeletLocationForPod(registry, pod, kubelet);
      const answered = await tunnelSpdyOverWebSocket(req, socket, head, location, kubelet, path);
      return upgrade(spdyTunnelProtocol, answered);
    }
    if (!offered.some((p) => passThroughWebSocketProtocols[subresource]?.includes(p))) {
      throw badRequest(
        `websocket subprotocols [${offered.join(', ')}] are not supported for pods/${subresource} by this API server; use SPDY/3.1`,
      );
    }
  }
  const path = kubeletPathFor(pod, subresource, q);
  const location = kubeletLocationForPod(registry, pod, kubelet);
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${location.host}:${location.port}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!dropped.has((raw[i] as string).toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  await new Promise<void>((resolve, reject) => {
    const upstream = kubeletSocket(location, kubelet);
    let connected = false;
    upstream.once(location.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      connected = true;
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      resolve();
    });
    upstream.on('error', (error) => {
      if (!connected)
        reject(new ApiError(503, 'ServiceUnavailable', `error dialing kubelet: ${error.message}`));
      socket.destroy();
    });
    socket.on('error', () => upstream.destroy());
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      if (!socket.destroyed) socket.end();
    });
  });
  return upgrade();
}
