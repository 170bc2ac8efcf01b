import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest } from './api-error';
import type { KubeObject } from './kube-object';
import { type KubeletClientOptions, kubeletGet, kubeletLocationForPod } from './kubelet-connection';
import { kubeletPathFor, throwUnlessOk } from './pod-proxy-subresources';
import type { ResourceRegistry } from './resource-registry';
import { acceptWebSocket } from './websocket-server';

/**
 * kube-apiserver's stream reader protocols (wsstream NewDefaultReaderProtocols): each chunk of
 * the log is one binary message, or one base64 text message; no subprotocol means binary.
 */
const readerProtocols: Record<string, { binary: boolean }> = {
  'binary.k8s.io': { binary: true },
  'base64.binary.k8s.io': { binary: false },
};

/** The subprotocol answered: the first the client offers that the server reads, '' if it offers none. */
export function logWebSocketProtocol(offered: string | undefined): string {
  const protocols = (offered ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (protocols.length === 0) return '';
  const chosen = protocols.find((p) => p in readerProtocols);
  if (chosen === undefined) {
    throw badRequest(
      `requested protocol(s) are not supported: [${protocols.join(' ')}]; supports [${Object.keys(readerProtocols).join(' ')}]`,
    );
  }
  return chosen;
}

/**
 * GET pods/{name}/log upgraded to a WebSocket (how the conformance test and some dashboards read
 * logs): the kubelet's /containerLogs answer is fetched first (its errors stay plain HTTP), then
 * every chunk goes out as one message in the chosen framing, and a normal close ends it.
 */
export async function servePodLogWebSocket(
  registry: ResourceRegistry,
  kubelet: KubeletClientOptions,
  pod: KubeObject,
  q: URLSearchParams,
  req: IncomingMessage,
  socket: Duplex,
): Promise<void> {
  const protocol = logWebSocketProtocol(req.headers['sec-websocket-protocol'] as string | undefined);
  const abort = new AbortController();
  const answer = await kubeletGet(
    kubeletLocationForPod(registry, pod, kubelet),
    kubeletPathFor(pod, 'log', q),
    kubelet,
    abort.signal,
  );
  await throwUnlessOk(answer);
  const binary = readerProtocols[protocol]?.binary ?? true;
  const ws = acceptWebSocket(req, socket, protocol);
  ws.on('close', () => abort.abort());
  answer.on('data', (chunk: Buffer) =>
    binary ? ws.send(chunk) : ws.send(Buffer.from(chunk.toString('base64')), true),
  );
  await new Promise<void>((resolve) => {
    answer.on('end', resolve);
    answer.on('error', () => resolve());
    ws.on('close', resolve);
  });
  ws.close(1000);
}
