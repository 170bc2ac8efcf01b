import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContextOptions } from 'node:tls';
import type { Kubelet } from '../kubelet';
import type { KubeletLogger } from '../kubelet-logger';
import type { SummaryProvider } from '../stats/summary-provider';
import { serveCheckpoint } from './checkpoint-route';
import { serveContainerLogs } from './container-logs-route';
import { serveDebugFlags, type VerbositySetter } from './debug-flags-route';
import type { ContainerDebugRuntime } from './debug-runtime';
import {
  debugEndpointsDisabled,
  isDebuggingDisabledPath,
  type RegisteredSubtrees,
} from './debugging-handlers';
import { writeGoBadRequest, writeGoHttpError, writeGoRedirect } from './go-net-http';
import { findHandler, type RequestTarget } from './go-serve-mux';
import {
  applyGoServerLimits,
  type GoServerLimits,
  goServerOptions,
  upstreamServerLimits,
} from './go-server-limits';
import { serveHealthz } from './healthz-route';
import { serveMetricsRoute } from './metrics-routes';
import { isWebServicePath } from './mux-patterns';
import { serveProfiling } from './profiling-route';
import { restfulNotFound } from './restful-answers';
import { kubeletRoutes, refuseForRoute, restfulRefusal } from './restful-negotiation';
import { serveRun } from './run-route';
import { runningPodsBody } from './running-pods';
import {
  type Authenticator,
  type Authorizer,
  subresourcesForPath,
  type UserInfo,
  verbForMethod,
} from './server-auth';
import type { ServingTlsSettings } from './serving-tls-settings';
import { refusalWithoutUpgrade, serveStreaming } from './streaming-handler';
import { parseStreamingPath } from './streaming-routes';
import type { StreamingRuntime } from './streaming-runtime';
import { cpuAndMemoryOnly } from './summary-filter';
import { type SystemLogOptions, serveSystemLogs } from './system-logs-route';
import { writeRawResponse } from './upgrade-proxy';

/** What {@link createKubeletServer} serves and how it checks callers. */
export interface KubeletServerOptions {
  /** The kubelet whose pods, health and metrics the routes report. */
  kubelet: Kubelet;
  /** This node's name: the `nodes/<name>` object every request is authorized against. */
  nodeName: string;
  /** KubeletConfiguration.podLogsDir (default /var/log/pods), where /containerLogs reads. */
  podLogsDir: string;
  /** Who is calling (e.g. {@link kubeletAuthenticator}); undefined answers 401 Unauthorized. */
  authenticate: Authenticator;
  /** Whether that caller may use the path's nodes subresource (e.g. {@link subjectAccessReviewAuthorizer}); false answers 403. */
  authorize: Authorizer;
  /** /stats/summary; without it that path is not served. */
  summary?: SummaryProvider;
  /** CRI Exec/Attach/PortForward; without it /exec, /attach and /portForward are not served. */
  streaming?: StreamingRuntime;
  /**
   * CRI ExecSync and CheckpointContainer (e.g. `criDebugRuntime` from
   * `@nodeagent/kubelet/server`); without it /run and /checkpoint are not served.
   */
  debugRuntime?: ContainerDebugRuntime;
  /**
   * Feature gate ContainerCheckpoint (beta and on by default since v1.30, so in v1.36): false
   * leaves /checkpoint unserved, as upstream does not register it then.
   */
  containerCheckpoint?: boolean;
  /**
   * /debug/flags/v: what a PUT of a verbosity applies it with (the binary: its log level);
   * `false` is enableDebugFlagsHandler: false (upstream's 405 `flags endpoint is disabled.`);
   * without it that path is not served.
   */
  setVerbosity?: VerbositySetter | false;
  /** Where /metrics/resource reports a failed stats read (upstream logs it too). */
  logger?: Pick<KubeletLogger, 'error'>;
  /**
   * /configz: the configuration in effect, served as upstream serves it (`{"kubeletconfig": …}`,
   * the v1beta1 fields without kind and apiVersion); without it that path is not served.
   */
  configz?: () => object;
  /**
   * enableDebuggingHandlers (default true). false serves what upstream's
   * InstallDebuggingDisabledHandlers does: /run/, /exec/, /attach/, /portForward/,
   * /containerLogs/, /runningpods/, /debug/pprof/ and /logs/ answer 405 `Debug endpoints are
   * disabled.` to an authorized caller, and /configz, /checkpoint/ and /debug/flags/v are not
   * served, whatever the options above hold.
   */
  debuggingHandlers?: boolean;
  /**
   * enableProfilingHandler (default true), with the debugging handlers on: false answers
   * /debug/pprof/ 405 `profiling endpoint is disabled.` as upstream; true answers a GET 501 (Go's
   * pprof profiles have no Node equivalent; see profiling-route.ts).
   */
  profilingHandler?: boolean;
  /**
   * /logs/ with the debugging handlers on: enableSystemLogHandler's file server over `dir`
   * (upstream: /var/log/), `query` being enableSystemLogQuery with the NodeLogQuery gate (the
   * node log query: journalctl and the files under `dir`); `false` is enableSystemLogHandler: false (405 `logs
   * endpoint is disabled.`); without it /logs/ is not served (go-restful's 404).
   */
  systemLogs?: SystemLogOptions | false;
  /**
   * The http.Server limits; upstream's by default (ReadTimeout and WriteTimeout 4 h, IdleTimeout
   * 90 s, MaxHeaderBytes 1 MiB: go-server-limits.ts). Tests shorten them.
   */
  limits?: Partial<GoServerLimits>;
  /**
   * PEM material, and upstream's TLS settings (servingTlsSettings; Node's defaults without);
   * without it the server speaks plain HTTP (tests, the healthz port).
   */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; settings?: ServingTlsSettings };
}

/** Connections handed over for streaming: the HTTP server no longer tracks them, close() must end them. */
const upgradedSockets = new WeakMap<Server, Set<Duplex>>();

/** A server {@link listen} bound, with the port it got (useful when asked for port 0). */
export interface RunningServer {
  /** The listening server. */
  server: Server;
  /** The bound port. */
  port: number;
  /** Stops listening and ends every open connection, streaming ones included; resolves once closed. */
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
 * The kubelet's own API (port 10250): /healthz, /pods, /metrics, /stats/summary,
 * /containerLogs/{namespace}/{pod}/{container} (tailLines, sinceSeconds, timestamps, previous,
 * follow), the streaming endpoints /exec, /attach and /portForward (upgrade requests proxied
 * to the runtime), /run, /checkpoint and /debug/flags/v, behind upstream's authentication and
 * nodes/<subresource> authorization.
 */
export function createKubeletServer(options: KubeletServerOptions): Server {
  const limits = { ...upstreamServerLimits, ...options.limits };
  let startWriteTimeout: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    startWriteTimeout(request, response);
    handle(options, request, response).catch((error) => {
      if (!response.headersSent) send(response, 500, `${(error as Error).message}\n`);
      else response.end();
    });
  };
  const upgraded = new Set<Duplex>();
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    handleUpgrade(options, request, socket, head).catch((error) =>
      writeRawResponse(socket, 500, `${(error as Error).message}\n`),
    );
  };
  const context = options.tls && servingContextOptions(options.tls);
  const server = options.tls
    ? createHttpsServer(
        {
          ...goServerOptions(limits),
          ...context,
          cert: options.tls.cert,
          key: options.tls.key,
          requestCert: options.tls.ca !== undefined,
          rejectUnauthorized: false,
        },
        handler,
      )
    : createHttpServer(goServerOptions(limits), handler);
  if (context) keepContextOnRotation(server as HttpsServer, context);
  server.on('upgrade', onUpgrade);
  startWriteTimeout = applyGoServerLimits(server, limits);
  upgradedSockets.set(server, upgraded);
  return server;
}

/** What the serving context has besides its certificate and key: the TLS settings and the client CA. */
function servingContextOptions(tls: NonNullable<KubeletServerOptions['tls']>): SecureContextOptions {
  // Without clientCAFile no client certificate is asked for, so the context trusts no CA rather
  // than Node's root store, which it would otherwise build at the start (issue #51).
  return { ...tls.settings, ca: tls.ca ?? [] };
}

/**
 * A new serving certificate (serverTLSBootstrap's rotation, serving-certificate.ts) is given as
 * its certificate and key alone, and Node's setSecureContext builds the context from the options
 * it is passed: the client CA and the TLS settings were dropped with the first certificate, so
 * client certificates went unverified (401) and Go's suites, versions and groups gave way to Node's.
 */
function keepContextOnRotation(server: HttpsServer, context: SecureContextOptions): void {
  const setSecureContext = server.setSecureContext.bind(server);
  server.setSecureContext = (options) => setSecureContext({ ...context, ...options });
}

/** The unauthenticated healthz endpoint (healthzBindAddress:healthzPort, 127.0.0.1:10248 by default). */
export function createHealthzServer(kubelet: Kubelet): Server {
  return createHttpServer((request, response) => {
    if (request.url?.split('?')[0] !== '/healthz') return send(response, 404, '404 page not found\n');
    const health = kubelet.healthz();
    send(response, health.ok ? 200 : 500, health.ok ? 'ok' : `${health.message}\n`);
  });
}

/**
 * Binds `server` to `host:port` (port 0 picks a free one). Rejects with the server's 'error'
 * (e.g. EADDRINUSE) if it cannot bind.
 */
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
        for (const socket of upgradedSockets.get(server) ?? []) socket.destroy();
      }),
  };
}

/**
 * Authentication, then nodes/<subresource> authorization as upstream's auth filter does it: each
 * of the path's subresources in turn until one is allowed; the refusal (401, 403, or 500 when the
 * authorizer fails) otherwise, in upstream's words.
 */
async function refusal(
  options: KubeletServerOptions,
  request: IncomingMessage,
  path: string,
): Promise<{ code: number; message: string } | undefined> {
  let user: UserInfo | undefined;
  try {
    user = await options.authenticate(request);
  } catch (error) {
    // A TokenReview that failed is a refusal like any other, as upstream's filter answers it.
    options.logger?.error({ err: String(error) }, 'Unable to authenticate the request due to an error');
  }
  // go-restful's WriteErrorString: the text as it is, no newline.
  if (!user) return { code: 401, message: 'Unauthorized' };
  const verb = verbForMethod(request.method);
  const subresources = subresourcesForPath(path);
  for (const subresource of subresources) {
    let allowed: boolean;
    try {
      allowed = await options.authorize(user, { verb, subresource, nodeName: options.nodeName });
    } catch (error) {
      options.logger?.error(
        { err: String(error), user: user.name, verb, subresource },
        'Authorization error',
      );
      return {
        code: 500,
        message: `Authorization error (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource})`,
      };
    }
    if (allowed) return undefined;
  }
  return {
    code: 403,
    // Go's %v of the subresources: [pods proxy].
    message: `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource(s)=[${subresources.join(' ')}])\n`,
  };
}

/** What upstream's mux registers, given the options: the debugging handlers and /checkpoint/. */
function registeredSubtrees(options: KubeletServerOptions): RegisteredSubtrees {
  return {
    debuggingHandlers: options.debuggingHandlers !== false,
    checkpoint: options.debugRuntime !== undefined && options.containerCheckpoint !== false,
  };
}

/** Upgrade requests: only the streaming endpoints take them. */
async function handleUpgrade(
  options: KubeletServerOptions,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const routed = findHandler(request.url ?? '/', registeredSubtrees(options));
  if (routed.kind === 'bad-request') return writeRawResponse(socket, 400, '400 Bad Request');
  if (routed.kind === 'redirect') return writeRawResponse(socket, 301, '', { Location: routed.location });
  if (routed.kind === 'not-found') return writeRawResponse(socket, 404, '404 page not found\n');
  const path = routed.target.pathname;
  const refused = await refusal(options, request, path);
  if (refused) return writeRawResponse(socket, refused.code, refused.message);
  if (options.debuggingHandlers === false && isDebuggingDisabledPath(path))
    return writeRawResponse(socket, 405, `${debugEndpointsDisabled}\n`);
  const target = parseStreamingPath(path);
  if (!target || !options.streaming) return writeRawResponse(socket, 404, '404 page not found\n');
  const negotiation = restfulRefusal(request, kubeletRoutes.streaming);
  if (negotiation)
    return writeRawResponse(socket, negotiation.code, negotiation.message, negotiation.headers);
  await serveStreaming(options.kubelet, options.streaming, target, request, socket, head);
}

async function handle(
  options: KubeletServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const registered = registeredSubtrees(options);
  // Go's net/http and ServeMux answer these themselves, before the auth filter runs.
  const routed = findHandler(request.url ?? '/', registered);
  if (routed.kind === 'bad-request') return writeGoBadRequest(response);
  if (routed.kind === 'redirect') return writeGoRedirect(request, response, routed.location);
  if (routed.kind === 'not-found') return send(response, 404, '404 page not found\n');
  const url = routed.target;
  const path = url.pathname;
  const debugging = registered.debuggingHandlers;
  const refused = await refusal(options, request, path);
  if (refused) return send(response, refused.code, refused.message);
  if (!debugging && isDebuggingDisabledPath(path))
    return writeGoHttpError(response, 405, debugEndpointsDisabled);
  const { kubelet } = options;
  if (serveHealthz(kubelet, url, response)) return;
  if (path === '/configz' && options.configz && debugging) {
    return send(response, 200, JSON.stringify({ kubeletconfig: options.configz() }), 'application/json');
  }
  if (path === '/runningpods/') {
    if (refuseForRoute(request, response, kubeletRoutes.runningPods)) return;
    return send(response, 200, runningPodsBody(kubelet.runtimePods()), 'application/json');
  }
  if (path === '/pods' || path === '/pods/') {
    if (refuseForRoute(request, response, kubeletRoutes.pods)) return;
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
  const scrapeError = (error: unknown) =>
    options.logger?.error(
      { err: String(error) },
      'Error getting summary for resourceMetric prometheus endpoint',
    );
  if (await serveMetricsRoute(path, kubelet, options.summary, response, scrapeError)) return;
  if ((path === '/stats/summary' || path === '/stats/summary/') && options.summary) {
    if (refuseForRoute(request, response, kubeletRoutes.statsSummary)) return;
    const summary = await options.summary.summary();
    const body = url.searchParams.get('only_cpu_and_memory') === 'true' ? cpuAndMemoryOnly(summary) : summary;
    return send(response, 200, JSON.stringify(body), 'application/json');
  }
  const streamingTarget = parseStreamingPath(path);
  if (streamingTarget && options.streaming) {
    if (refuseForRoute(request, response, kubeletRoutes.streaming)) return;
    // The streaming protocols (SPDY/3.1, WebSocket) only run over an upgraded connection.
    const answer = await refusalWithoutUpgrade(kubelet, options.streaming, streamingTarget, url.searchParams);
    if (answer.code === 500) options.logger?.error({ err: answer.message }, 'Error while proxying request');
    return send(response, answer.code, `${answer.message}\n`);
  }
  if (await serveDebugRoute(options, url, request, response)) return;
  if (debugging && path.startsWith('/debug/pprof/'))
    return serveProfiling(options.profilingHandler !== false, request, response);
  if (debugging && path.startsWith('/logs/') && options.systemLogs !== undefined) {
    if (options.systemLogs === false) return writeGoHttpError(response, 405, 'logs endpoint is disabled.');
    if (refuseForRoute(request, response, kubeletRoutes.systemLogs)) return;
    return serveSystemLogs(options.systemLogs, url, request, response);
  }
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (logs) {
    if (refuseForRoute(request, response, kubeletRoutes.containerLogs)) return;
    const [namespace, pod, container] = logs.slice(1) as [string, string, string];
    return serveContainerLogs(
      kubelet,
      options.podLogsDir,
      { namespace, pod, container },
      url,
      request,
      response,
    );
  }
  if (isWebServicePath(path, registered)) return restfulNotFound(response);
  send(response, 404, '404 page not found\n');
}

/** /run, /checkpoint and /debug/flags/v when the options serve them; false for any other path. */
async function serveDebugRoute(
  options: KubeletServerOptions,
  url: RequestTarget,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  const path = url.pathname;
  if (options.debuggingHandlers === false) return false;
  const runtime = options.debugRuntime;
  if (runtime && path.startsWith('/run/')) {
    await serveRun(options.kubelet, runtime, url, request, response);
    return true;
  }
  if (runtime && options.containerCheckpoint !== false && path.startsWith('/checkpoint/')) {
    await serveCheckpoint(options.kubelet, runtime, url, request, response);
    return true;
  }
  if (path === '/debug/flags/v' && options.setVerbosity !== undefined) {
    await serveDebugFlags(options.setVerbosity, request, response);
    return true;
  }
  return false;
}
