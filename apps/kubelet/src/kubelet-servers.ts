import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import type { CriClient } from '@nodeagent/cri-client';
import { authenticationV1Requests, authorizationV1Requests } from '@nodeagent/informer';
import {
  alwaysAllow,
  type CriSummaryProvider,
  createKubeletServer,
  criStreamingRuntime,
  type Kubelet,
  type KubeletLogger,
  kubeletAuthenticator,
  listen,
  type RunningServer,
  subjectAccessReviewAuthorizer,
} from '@nodeagent/kubelet';
import {
  criDebugRuntime,
  type SelfSignedServingFiles,
  type ServingTlsSettings,
  selfSignedCertificate,
  servingTlsSettings,
} from '@nodeagent/kubelet/server';
import { type Clock, parseDuration } from '@nodeagent/primitives';
import { serveHealthz } from './healthz-listener';
import type { ResolvedKubeletOptions } from './kubelet-flags';
import { verbositySetter } from './log-verbosity';
import { createReadOnlyServer } from './read-only-server';
import { listenFailure } from './start-up-errors';
import { systemLogsOption } from './system-log-settings';
import type { KubeletCertificates } from './tls-bootstrap';

/** What the kubelet's listeners serve from. */
export interface KubeletServerWiring {
  config: ResolvedKubeletOptions['config'];
  /** Upstream's self-signed pair under --cert-dir, when no other serving certificate is set. */
  selfSigned: SelfSignedServingFiles | undefined;
  nodeName: string;
  hostIPs: string[];
  kubelet: Kubelet;
  client: CriClient;
  summary: CriSummaryProvider;
  kubeConfig: KubeConfig | undefined;
  certificates: KubeletCertificates;
  logger: KubeletLogger;
  /** Spaces the healthz server's attempts (tests pass a FakeClock). */
  clock?: Clock;
  /** What /logs/ serves: upstream's /var/log/ unless a test points it elsewhere. */
  systemLogDir?: string;
}

/**
 * The read-only, kubelet (HTTPS) and healthz servers the configuration enables; `serverPort` is
 * the kubelet server's port when it runs. As upstream, the first two stop the kubelet when they
 * cannot listen; healthz is logged and tried again (healthz-listener.ts).
 */
export async function startKubeletServers(
  w: KubeletServerWiring,
): Promise<{ servers: { close(): Promise<void> }[]; serverPort: number | undefined }> {
  const { config, kubelet, nodeName, summary } = w;
  const servers: { close(): Promise<void> }[] = [];
  if (config.readOnlyPort > 0) {
    const readOnly = createReadOnlyServer({ kubelet, nodeName, podLogsDir: config.podLogsDir, summary });
    servers.push(await listenOrFail(readOnly, 'readOnlyPort', config.readOnlyPort, config.address));
  }
  let serverPort: number | undefined;
  if (config.enableServer) {
    const server = await startKubeletServer(w);
    servers.push(server);
    w.certificates.attachServer(server.server);
    serverPort = server.port;
  }
  if (config.healthzPort > 0) servers.push(serveHealthz(kubelet, config, w.logger, w.clock));
  return { servers, serverPort };
}

/** Listens, or fails naming the setting whose port it is (listenFailure). */
async function listenOrFail(server: Server, field: string, port: number, address: string) {
  try {
    return await listen(server, port, address);
  } catch (error) {
    throw listenFailure(field, address, port, error);
  }
}

/**
 * The serving certificate: bootstrapped (serverTLSBootstrap with --kubeconfig), the configured
 * files, or upstream's self-signed pair under --cert-dir (self-signed-serving-pair.ts). What is
 * left (serverTLSBootstrap without --kubeconfig, one file of the two) gets a pair made in memory.
 */
async function servingTls(w: KubeletServerWiring): Promise<{ cert: string | Buffer; key: string | Buffer }> {
  const { config } = w;
  const bootstrapped = w.certificates.servingTls();
  if (bootstrapped) return bootstrapped;
  if (config.tlsCertFile && config.tlsPrivateKeyFile)
    return { cert: await readFile(config.tlsCertFile), key: await readFile(config.tlsPrivateKeyFile) };
  return w.selfSigned ?? selfSignedCertificate(w.nodeName, w.hostIPs);
}

/**
 * The kubelet server: the serving certificate (servingTls), client certificates and tokens
 * authenticated, requests authorized by SubjectAccessReview.
 */
async function startKubeletServer(w: KubeletServerWiring): Promise<RunningServer> {
  const { config, kubeConfig } = w;
  const tls = await servingTls(w);
  const clientCA = config.authentication.x509.clientCAFile
    ? await readFile(config.authentication.x509.clientCAFile)
    : undefined;
  return listenOrFail(
    createKubeletServer({
      kubelet: w.kubelet,
      nodeName: w.nodeName,
      podLogsDir: config.podLogsDir,
      summary: w.summary,
      logger: w.logger,
      streaming: criStreamingRuntime(w.client),
      debuggingHandlers: config.enableDebuggingHandlers,
      profilingHandler: config.enableProfilingHandler,
      ...debugHandlers(w),
      configz: () => configzView(config),
      systemLogs: systemLogsOption(config, w.systemLogDir),
      tls: { ...tls, ca: clientCA, settings: tlsSettings(w) },
      authenticate: kubeletAuthenticator({
        x509: clientCA !== undefined,
        anonymous: config.authentication.anonymous.enabled,
        tokenReview: config.authentication.webhook.enabled
          ? kubeConfig && authenticationV1Requests(kubeConfig)
          : undefined,
      }),
      authorize:
        config.authorization.mode === 'AlwaysAllow' || !kubeConfig
          ? alwaysAllow
          : subjectAccessReviewAuthorizer(authorizationV1Requests(kubeConfig)),
    }),
    'port',
    config.port,
    config.address,
  );
}

/**
 * tlsCipherSuites, tlsMinVersion and tlsCurvePreferences as the server's options; upstream's
 * InitializeTLS warning for each insecure suite, and one for each suite or group this runtime's
 * TLS library lacks, logged as the server starts.
 */
function tlsSettings(w: KubeletServerWiring): ServingTlsSettings {
  const { settings, warnings } = servingTlsSettings(w.config);
  for (const message of warnings) w.logger.warn({}, message);
  return settings;
}

/**
 * /run, /checkpoint (feature gate ContainerCheckpoint, on by default) and /debug/flags/v
 * (enableDebugFlagsHandler; false answers upstream's 405) as upstream installs them: only with
 * enableDebuggingHandlers (without them the server answers upstream's disabled handlers).
 */
function debugHandlers(w: KubeletServerWiring) {
  const { config } = w;
  if (!config.enableDebuggingHandlers) return {};
  return {
    debugRuntime: criDebugRuntime(w.client, {
      requestTimeoutSeconds: parseDuration(config.runtimeRequestTimeout) / 1000,
    }),
    containerCheckpoint: config.featureGates.ContainerCheckpoint ?? true,
    setVerbosity: config.enableDebugFlagsHandler ? verbositySetter(w.logger) : (false as const),
  };
}

/**
 * /configz as upstream's setConfigz fills it: the configuration converted to v1beta1 without its
 * TypeMeta (a conversion sets no kind or apiVersion, and both are omitempty).
 */
function configzView(config: KubeletServerWiring['config']): object {
  const { kind: _kind, apiVersion: _apiVersion, ...fields } = config;
  return fields;
}
