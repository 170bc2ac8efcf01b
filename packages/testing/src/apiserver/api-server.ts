import type { Server as NetServer } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { AccessReviews } from './access-reviews';
import { ApiError } from './api-error';
import type { ApiRequestContext } from './api-request-context';
import { createBootstrapTokenSecret } from './bootstrap-token';
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from './control-plane';
import {
  type CertificateControllerOptions,
  type CertificateControllers,
  startCertificateControllers,
} from './csr-controllers';
import {
  type EndpointSliceController,
  type EndpointSliceControllerOptions,
  startEndpointSliceController,
} from './endpointslice-controller';
import { FaultInjector } from './fault-injector';
import { startHttpServing } from './http-serving';
import { kubeConfigFor, writeKubeconfigFile } from './kubeconfig';
import type { KubeletClientOptions } from './kubelet-connection';
import { ObjectStore } from './object-store';
import { PaginatedLists } from './paginated-list';
import type { PodStreamUpgrade } from './pod-proxy-subresources';
import type { UserInfo } from './request-authentication';
import { type RequestObserver, RequestObservers } from './request-observers';
import { serveRequest, serveUpgrade } from './request-routing';
import { ResourceRegistry } from './resource-registry';
import { findResourceType, type ResourceType } from './resource-types';
import { startRootCAPublisher } from './root-ca-publisher';
import { createServingCert } from './self-signed-cert';
import { WatchHub, type WatchStreamSettings } from './watch-hub';

/** What the in-process API server listens on and runs alongside. */
export interface ApiServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * Serve HTTPS with a throwaway self-signed certificate (made in-process); kubeconfigs
   * then carry it as certificate-authority-data. Default false: plain HTTP/1.1 (as kube-apiserver,
   * no h2c).
   */
  tls?: boolean;
  /**
   * Over TLS, offer HTTP/2 beside HTTP/1.1 by ALPN, as kube-apiserver's secure port does (Go
   * clients such as kubectl then speak h2; upgrades stay HTTP/1.1). `false` serves HTTP/1.1 alone
   * (ALPN answers http/1.1), to test a client's fallback. Default true; no effect without `tls`.
   */
  http2?: boolean;
  /**
   * SETTINGS_MAX_CONCURRENT_STREAMS of each HTTP/2 connection. Default 100, what kube-apiserver
   * advertises: it leaves --http2-max-streams-per-connection at 0, which its secure serving turns
   * into 100 (Go's client-side initial limit; 250 before the 2023 rapid-reset fixes). The
   * generic apiserver's RecommendedOptions set 1000 for aggregated API servers.
   */
  http2MaxStreamsPerConnection?: number;
  /** How many changes the watch history keeps; older resourceVersions get 410 Gone. Default 10000. */
  historyWindow?: number;
  /** Interval between BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client sends no timeoutSeconds. Default 1800 s. */
  defaultWatchTimeoutSeconds?: number;
  /**
   * The WatchList feature gate (KEP-3157, on by default since v1.34). Off, a watch naming
   * `sendInitialEvents` is a 422 (Forbidden) and a watch from "" or "0" gets no initial events
   * by default, as a server with the gate off: client-go's reflectors then LIST. Default true.
   */
  watchList?: boolean;
  /**
   * tolerationSeconds of the node.kubernetes.io/not-ready and /unreachable NoExecute tolerations
   * the DefaultTolerationSeconds admission adds to pods that have none (kube-apiserver's
   * --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds). Default 300.
   */
  defaultNotReadyTolerationSeconds?: number;
  defaultUnreachableTolerationSeconds?: number;
  /** ClusterIP range. Default 10.96.0.0/12 (kube-apiserver's default). */
  serviceCIDR?: string;
  /** Clock for timestamps. */
  now?: () => Date;
  /** Run the EndpointSlice controller from the start (default false; see startEndpointSliceController). */
  endpointSliceController?: boolean | EndpointSliceControllerOptions;
  /**
   * How pods/log, pods/exec, pods/attach and pods/portforward reach the kubelet of the pod's node
   * (found from the Node's status.addresses and daemonEndpoints). Default https, no client
   * certificate, certificate not verified.
   */
  kubelet?: KubeletClientOptions;
  /**
   * The CSR approver and signer (kube-controller-manager's csrapproving and csrsigning); on by
   * default with upstream's settings, `false` turns both off. See CertificateControllerOptions.
   */
  certificates?: boolean | CertificateControllerOptions;
  /**
   * The control plane's controllers (issue #19): node lifecycle (Lease monitoring, Ready=Unknown,
   * unreachable/not-ready taints), taint-based eviction, a scheduler, the ReplicaSet controller
   * and pod garbage collection. Default false (pods keep the nodeName they are given, nothing is
   * scheduled); `true` runs them all with upstream's timings. Its `clock` (a ManualClock in
   * tests) also stamps the server's timestamps unless `now` is given.
   */
  controlPlane?: boolean | ControlPlaneOptions;
  /** Called with the authenticated user of every request (client certificate, bootstrap token, or the admin). */
  audit?: (user: UserInfo, method: string, path: string) => void;
  /**
   * Add the ServiceAccount admission plugin's projected token volume (`kube-api-access-*`,
   * mounted at /var/run/secrets/kubernetes.io/serviceaccount) to new pods, and keep a
   * `kube-root-ca.crt` ConfigMap in every namespace as kube-controller-manager does, so pods look
   * as a real cluster stores them. Default false: pods come back without that volume.
   */
  serviceAccountTokenVolume?: boolean;
}

/** A running in-process API server: its URL, registry, store, faults and controllers. */
export interface ApiServer {
  readonly url: string;
  readonly port: number;
  /** PEM of the serving certificate (its own CA) when started with `tls: true`. */
  readonly caCertificate: string | undefined;
  /** API semantics (create/update/patch/delete with validation), for direct use in tests. */
  readonly registry: ResourceRegistry;
  /** Raw storage with the global resourceVersion and watch history. */
  readonly store: ObjectStore;
  readonly faults: FaultInjector;
  /**
   * What TokenReview and SubjectAccessReview answer: `addToken(token, user)` (static tokens, as
   * --token-auth-file), `grant({ name, subjects, rules })` (RBAC-like), `asked` (the reviews made).
   */
  readonly accessReviews: AccessReviews;
  /** Number of open watch connections. */
  readonly openWatches: number;
  /**
   * Each pods/exec, /attach and /portforward upgrade served, in order: the client's transport,
   * the WebSocket subprotocol accepted from it and the stream protocol the kubelet answered.
   */
  readonly podStreams: readonly PodStreamUpgrade[];
  /** The WatchList feature gate, switchable while running, and what each stream cost to send. */
  readonly watchStreams: WatchStreamSettings;
  /** A KubeConfig for this server (client-node). */
  kubeConfig(): KubeConfig;
  /** Writes a kubeconfig file for this server (kubectl, the agents' binaries). */
  writeKubeconfig(path: string): void;
  /** Look up a resource type by `apiVersion` + plural, e.g. ('v1', 'pods'). */
  resource(apiVersion: string, plural: string): ResourceType;
  /** Start (or return the running) EndpointSlice controller. */
  startEndpointSliceController(options?: EndpointSliceControllerOptions): EndpointSliceController;
  /** The running EndpointSlice controller, if any. */
  readonly endpointSliceController: EndpointSliceController | undefined;
  /** PEM of the cluster CA the CSR signer issues from; over HTTPS client certificates it signed authenticate. */
  readonly clientCA: string | undefined;
  /** The CSR approver and signer, unless started with `certificates: false`. */
  readonly certificates: CertificateControllers | undefined;
  /** The control-plane controllers, when started with `controlPlane`. */
  readonly controlPlane: ControlPlane | undefined;
  /**
   * A bootstrap token as `kubeadm token create` makes one (a kube-system Secret of type
   * bootstrap.kubernetes.io/token for system:bootstrappers:kubeadm:default-node-token); it
   * authenticates as system:bootstrap:<id>.
   */
  createBootstrapToken(options?: { ttlSeconds?: number }): string;
  /** A kubeconfig for this server whose user is `token` (e.g. a bootstrap token): --bootstrap-kubeconfig. */
  writeBootstrapKubeconfig(path: string, token: string): void;
  /**
   * Also answers the connections `listener` accepts, as if they had come to `port`: e.g. one
   * `listenInNetns` bound inside a network namespace, so a node agent there talks to this server
   * with no forwarder in between. `close()` closes it too.
   */
  serve(listener: NetServer): void;
  /**
   * Calls `listener` for every request this server serves, HTTP/1.1 and HTTP/2, before routing
   * (upgrades excepted: they have no response), with the one object per connection: `req.socket`
   * over HTTP/1.x, the session's TLS socket over HTTP/2 (the same for every stream of a session;
   * the real socket, which `req.stream.session.socket` proxies). node:http's
   * `http.server.request.start` channel sees no HTTP/2 request. Returns what unsubscribes it.
   */
  observeRequests(listener: RequestObserver): () => void;
  /**
   * Stops the controllers, closes the listeners and every connection: HTTP/1.x sockets and
   * upgraded ones are destroyed, HTTP/2 sessions too (an open watch stream ends for its client
   * as a dropped one).
   */
  close(): Promise<void>;
}

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Start an in-process Kubernetes API server on a loopback port. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const cpOptions: ControlPlaneOptions | undefined =
    options.controlPlane === true ? {} : options.controlPlane === false ? undefined : options.controlPlane;
  const cpClock = cpOptions?.clock;
  const now = options.now ?? (cpClock ? () => cpClock.now() : () => new Date());
  const maxConcurrentStreams = http2StreamLimit(options);
  const store = new ObjectStore(options.historyWindow ?? 10_000);
  const registry = createRegistry(options, store, now);
  const lists = new PaginatedLists(registry, store, now);
  const watches = new WatchHub(store, options.bookmarkIntervalMs ?? 1000);
  watches.watchList = options.watchList ?? true;
  const faults = new FaultInjector({
    dropAll: () => watches.dropAll(),
    stallAll: () => watches.stallAll(),
    compact: () => {
      store.compact();
      // Paginated lists read a snapshot; compaction takes those away too.
      lists.clear();
    },
  });
  createDefaultServiceAccounts(registry, store);
  const nsType = findResourceType('', 'v1', 'namespaces') as ResourceType;
  for (const name of INITIAL_NAMESPACES) registry.create(nsType, undefined, { metadata: { name } });

  const accessReviews = new AccessReviews();
  let url = '';
  let controlPlane: ControlPlane | undefined;
  const ctx: ApiRequestContext = {
    registry,
    store,
    watches,
    lists,
    faults,
    accessReviews,
    now,
    kubelet: options.kubelet ?? {},
    defaultWatchTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1800,
    audit: options.audit,
    podStreams: [],
    url: () => url,
    garbageCollectorRunning: () => controlPlane?.garbageCollector !== undefined,
  };

  const servingCert = options.tls ? await createServingCert() : undefined;
  const certificates =
    options.certificates === false
      ? undefined
      : await startCertificateControllers(registry, store, {
          ...(options.certificates === true ? {} : options.certificates),
          now,
        });
  // The CA the token volumes carry: the serving CA over HTTPS, else the cluster CA.
  const stopRootCAPublisher = options.serviceAccountTokenVolume
    ? startRootCAPublisher(
        registry,
        store,
        servingCert?.cert ?? certificates?.ca.certPem ?? (await createServingCert()).cert,
      )
    : undefined;
  // Before listening: a bad option throws without leaving a server behind.
  try {
    controlPlane = cpOptions ? startControlPlane(registry, cpOptions) : undefined;
  } catch (err) {
    certificates?.stop();
    stopRootCAPublisher?.();
    throw err;
  }
  const observers = new RequestObservers();
  const serving = await startHttpServing(
    options.port ?? 0,
    servingCert && {
      cert: servingCert.cert,
      key: servingCert.key,
      ...(certificates ? { clientCA: certificates.ca.certPem } : {}),
      http2: options.http2 ?? true,
      maxConcurrentStreams,
    },
    {
      request: (req, res, connection) => {
        observers.notify(req, res, connection);
        serveRequest(ctx, req, res);
      },
      upgrade: (req, socket, head) => serveUpgrade(ctx, req, socket, head),
    },
  );
  const port = serving.port;
  url = `${servingCert ? 'https' : 'http'}://127.0.0.1:${port}`;
  let sliceController: EndpointSliceController | undefined;
  const startSlices = (o: EndpointSliceControllerOptions = {}): EndpointSliceController => {
    sliceController ??= startEndpointSliceController(registry, o);
    return sliceController;
  };
  if (options.endpointSliceController) {
    startSlices(options.endpointSliceController === true ? {} : options.endpointSliceController);
  }

  return {
    url,
    port,
    caCertificate: servingCert?.cert,
    registry,
    store,
    faults,
    accessReviews,
    get openWatches() {
      return watches.size;
    },
    watchStreams: watches,
    podStreams: ctx.podStreams,
    kubeConfig: () => kubeConfigFor(url, servingCert?.cert),
    writeKubeconfig: (path: string) => writeKubeconfigFile(url, path, servingCert?.cert),
    resource: resourceByApiVersion,
    startEndpointSliceController: startSlices,
    get endpointSliceController() {
      return sliceController;
    },
    clientCA: certificates?.ca.certPem,
    certificates,
    controlPlane,
    createBootstrapToken: (o = {}) => createBootstrapTokenSecret(registry, now(), o.ttlSeconds),
    writeBootstrapKubeconfig: (path: string, token: string) =>
      writeKubeconfigFile(url, path, servingCert?.cert, token),
    serve: serving.serve,
    observeRequests: (listener) => observers.add(listener),
    close: () => {
      sliceController?.stop();
      stopRootCAPublisher?.();
      certificates?.stop();
      controlPlane?.stop();
      watches.endAll();
      return serving.close();
    },
  };
}

/** The HTTP/2 stream limit, checked before anything starts: a whole number from 1 to 2^32-1 (a SETTINGS value). */
function http2StreamLimit(options: ApiServerOptions): number {
  const v = options.http2MaxStreamsPerConnection ?? 100;
  if (!Number.isInteger(v) || v < 1 || v > 0xffff_ffff)
    throw new RangeError(
      `http2MaxStreamsPerConnection: must be an integer from 1 to 4294967295, got ${String(v)}`,
    );
  return v;
}

/** The registry with the admission settings the options carry (checked: whole seconds, not negative). */
function createRegistry(options: ApiServerOptions, store: ObjectStore, now: () => Date): ResourceRegistry {
  for (const name of ['defaultNotReadyTolerationSeconds', 'defaultUnreachableTolerationSeconds'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw new RangeError(`${name}: must be a non-negative integer number of seconds, got ${String(v)}`);
  }
  return new ResourceRegistry(store, {
    now,
    serviceCIDR: options.serviceCIDR ?? '10.96.0.0/12',
    ...(options.serviceAccountTokenVolume ? { serviceAccountTokenVolume: true } : {}),
    admission: {
      ...(options.defaultNotReadyTolerationSeconds !== undefined
        ? { defaultNotReadyTolerationSeconds: options.defaultNotReadyTolerationSeconds }
        : {}),
      ...(options.defaultUnreachableTolerationSeconds !== undefined
        ? { defaultUnreachableTolerationSeconds: options.defaultUnreachableTolerationSeconds }
        : {}),
    },
  });
}

/** Like the serviceaccount controller: every namespace gets a "default" service account. */
function createDefaultServiceAccounts(registry: ResourceRegistry, store: ObjectStore): void {
  const saType = findResourceType('', 'v1', 'serviceaccounts') as ResourceType;
  store.subscribe((e) => {
    if (e.resource === '/namespaces' && e.type === 'ADDED') {
      const ns = e.object.metadata.name as string;
      queueMicrotask(() => {
        if (store.get('/namespaces', undefined, ns) && !registry.find(saType, ns, 'default')) {
          registry.create(saType, ns, { metadata: { name: 'default' } });
        }
      });
    }
  });
}

/** A resource type by `apiVersion` + plural, e.g. ('v1', 'pods'); 404 when there is none. */
function resourceByApiVersion(apiVersion: string, plural: string): ResourceType {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const rt = findResourceType(group as string, version as string, plural);
  if (!rt) throw new ApiError(404, 'NotFound', `unknown resource ${apiVersion} ${plural}`);
  return rt;
}
