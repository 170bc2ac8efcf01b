import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Kubelet } from '../kubelet';
import { findContainer } from '../runtime/runtime-state';
import { containerLogFile, followContainerLog, readContainerLog } from './container-logs';
import { type Authenticator, type Authorizer, subresourceForPath, verbForMethod } from './server-auth';

export interface KubeletServerOptions {
  kubelet: Kubelet;
  nodeName: string;
  podLogsDir: string;
  authenticate: Authenticator;
  authorize: Authorizer;
  /** PEM material; without it the server speaks plain HTTP (tests, the healthz port). */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer };
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function send(
  response: ServerResponse,
  code: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  response.writeHead(code, { 'Content-Type': type });
  response.end(body);
}

/**
 * The kubelet's own API (port 10250): /healthz, /pods, /metrics and
 * /containerLogs/{namespace}/{pod}/{container} (tailLines, sinceSeconds, timestamps, previous,
 * follow), behind upstream's authentication and nodes/<subresource> authorization.
 */
export function createKubeletServer(options: KubeletServerOptions): Server {
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    handle(options, request, response).catch((error) => {
      if (!response.headersSent) send(response, 500, `${(error as Error).message}\n`);
      else response.end();
    });
  };
  if (options.tls) {
    return createHttpsServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        ca: options.tls.ca,
        requestCert: options.tls.ca !== undefined,
        rejectUnauthorized: false,
      },
      handler,
    );
  }
  return createHttpServer(handler);
}

/** The unauthenticated healthz endpoint (healthzBindAddress:healthzPort, 127.0.0.1:10248 by default). */
export function createHealthzServer(kubelet: Kubelet): Server {
  return createHttpServer((request, response) => {
    if (request.url?.split('?')[0] !== '/healthz') return send(response, 404, '404 page not found\n');
    const health = kubelet.healthz();
    send(response, health.ok ? 200 : 500, health.ok ? 'ok' : `${health.message}\n`);
  });
}

export async function listen(server: Server, port: number, host: string): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

async function handle(
  options: KubeletServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://kubelet');
  const path = url.pathname;
  const user = await options.authenticate(request);
  if (!user) return send(response, 401, 'Unauthorized\n');
  const allowed = await options.authorize(user, {
    verb: verbForMethod(request.method),
    subresource: subresourceForPath(path),
    nodeName: options.nodeName,
  });
  if (!allowed) {
    return send(
      response,
      403,
      `Forbidden (user=${user.name}, verb=${verbForMethod(request.method)}, resource=nodes, subresource=${subresourceForPath(path)})\n`,
    );
  }
  const { kubelet } = options;
  if (path === '/healthz') {
    const health = kubelet.healthz();
    return send(response, health.ok ? 200 : 500, health.ok ? 'ok' : `${health.message}\n`);
  }
  if (path === '/pods' || path === '/pods/') {
    const items = kubelet.getPods().map((pod) => ({
      ...pod,
      apiVersion: 'v1',
      kind: 'Pod',
      status: kubelet.getPodStatus(pod.metadata.uid ?? '') ?? pod.status ?? {},
    }));
    return send(
      response,
      200,
      JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items }),
      'application/json',
    );
  }
  if (path === '/metrics') {
    const registry = kubelet.metrics.registry;
    return send(response, 200, await registry.metrics(), registry.contentType);
  }
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (logs) {
    const [namespace, podName, containerName] = logs.slice(1).map(decodeURIComponent) as [
      string,
      string,
      string,
    ];
    const pod = kubelet
      .getPods()
      .find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
    if (!pod) return send(response, 404, `pod ${namespace}/${podName} not found\n`);
    const runtime = kubelet.runtimeStatus(pod.metadata.uid ?? '');
    const current = runtime ? findContainer(runtime, containerName) : undefined;
    if (!current) return send(response, 404, `container ${containerName} in pod ${podName} not found\n`);
    const previous = url.searchParams.get('previous') === 'true';
    const restartCount = previous ? current.restartCount - 1 : current.restartCount;
    if (restartCount < 0)
      return send(
        response,
        400,
        `previous terminated container "${containerName}" in pod "${podName}" not found\n`,
      );
    const file = containerLogFile(
      options.podLogsDir,
      namespace,
      podName,
      pod.metadata.uid ?? '',
      containerName,
      restartCount,
    );
    const tail = url.searchParams.get('tailLines');
    const since = url.searchParams.get('sinceSeconds');
    const logOptions = {
      tailLines: tail !== null ? Number(tail) : undefined,
      sinceMs: since !== null ? Date.now() - Number(since) * 1000 : undefined,
      timestamps: url.searchParams.get('timestamps') === 'true',
    };
    if (url.searchParams.get('follow') === 'true' && !previous) {
      response.writeHead(200, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Transfer-Encoding': 'chunked',
      });
      const abort = new AbortController();
      request.on('close', () => abort.abort());
      response.on('close', () => abort.abort());
      await followContainerLog(file, logOptions, (chunk) => response.write(chunk), abort.signal);
      response.end();
      return;
    }
    return send(response, 200, await readContainerLog(file, logOptions));
  }
  send(response, 404, '404 page not found\n');
}
