import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError, badRequest, gone, methodNotAllowed } from './api-error';
import { createBootstrapTokenSecret } from './bootstrap-token';
import { type ControlPlane, type ControlPlaneOptions, startControlPlane } from './control-plane';
import {
  type CertificateControllerOptions,
  type CertificateControllers,
  startCertificateControllers,
} from './csr-controllers';
import { CSR_KIND, prepareCsrForCreate } from './csr-strategy';
import { prepareDeletion, propagationPolicyOf } from './deletion-propagation';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery';
import {
  type EndpointSliceController,
  type EndpointSliceControllerOptions,
  startEndpointSliceController,
} from './endpointslice-controller';
import { FaultInjector } from './fault-injector';
import { parseFieldSelector } from './field-selector';
import type { KubeObject } from './kube-object';
import { kubeConfigFor, writeKubeconfigFile } from './kubeconfig';
import type { KubeletClientOptions } from './kubelet-connection';
import { kubeletLocationForNode } from './kubelet-connection';
import { parseLabelSelector } from './label-selector';
import { ObjectStore } from './object-store';
import { openApiV2, openApiV3Document, openApiV3Root } from './openapi';
import { servePodLogWebSocket } from './pod-log-websocket';
import {
  isPodProxySubresource,
  serveKubeletGet,
  servePodLog,
  servePodStream,
  writeRawStatus,
} from './pod-proxy-subresources';
import { decodeProtobufObject, PROTOBUF_CONTENT_TYPE } from './protobuf-body';
import { authenticateRequest, type UserInfo } from './request-authentication';
import { parseResourcePath, type ResourcePath } from './request-path';
import { type DeleteOptions, ResourceRegistry, type WriteOptions } from './resource-registry';
import { apiVersionOf, findResourceType, type ResourceType } from './resource-types';
import { startRootCAPublisher } from './root-ca-publisher';
import { serveScale } from './scale-subresource';
import { createServingCert } from './self-signed-cert';
import { tableFor, wantsTable } from './table-output';
import { WatchHub } from './watch-hub';

/** What the in-process API server listens on and runs alongside. */
export interface ApiServerOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /**
   * Serve HTTPS with a throwaway self-signed certificate (made in-process); kubeconfigs
   * then carry it as certificate-authority-data. Default false: plain HTTP.
   */
  tls?: boolean;
  /** How many changes the watch history keeps; older resourceVersions get 410 Gone. Default 10000. */
  historyWindow?: number;
  /** Interval between BOOKMARK events on watches that allow them. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client sends no timeoutSeconds. Default 1800 s. */
  defaultWatchTimeoutSeconds?: number;
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
  /** Number of open watch connections. */
  readonly openWatches: number;
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
  /** Stops the controllers, closes every connection and the listener. */
  close(): Promise<void>;
}

const MAX_BODY = 3 * 1024 * 1024;
const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const MAX_SNAPSHOTS = 64;

function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY)
        reject(new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRawBody(req)).toString('utf8');
}

/** A request body object: JSON, or protobuf for what kubectl's generators send that way. */
async function readObject(req: IncomingMessage): Promise<unknown> {
  const raw = await readRawBody(req);
  if (String(req.headers['content-type'] ?? '').startsWith(PROTOBUF_CONTENT_TYPE))
    return decodeProtobufObject(raw);
  return parseJson(raw.toString('utf8'));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(
      `the body of the request was in an unknown format: couldn't get version/kind; json parse error: ${(err as Error).message}`,
    );
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  };
  if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(text);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid value for ${name}: ${v}`);
  return n;
}

interface ListSnapshot {
  rv: number;
  items: KubeObject[];
}

/** Start an in-process Kubernetes API server on a loopback port. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const cpOptions: ControlPlaneOptions | undefined =
    options.controlPlane === true ? {} : options.controlPlane === false ? undefined : options.controlPlane;
  const cpClock = cpOptions?.clock;
  const now = options.now ?? (cpClock ? () => cpClock.now() : () => new Date());
  const store = new ObjectStore(options.historyWindow ?? 10_000);
  const snapshots = new Map<string, ListSnapshot>();
  for (const name of ['defaultNotReadyTolerationSeconds', 'defaultUnreachableTolerationSeconds'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 0))
      throw new RangeError(`${name}: must be a non-negative integer number of seconds, got ${String(v)}`);
  }
  const registry = new ResourceRegistry(store, {
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
  const watches = new WatchHub(store, options.bookmarkIntervalMs ?? 1000);
  const faults = new FaultInjector({
    dropAll: () => watches.dropAll(),
    stallAll: () => watches.stallAll(),
    compact: () => {
      store.compact();
      // Paginated lists read a snapshot; compaction takes those away too.
      snapshots.clear();
    },
  });
  const defaultWatchTimeout = options.defaultWatchTimeoutSeconds ?? 1800;

  const nsType = findResourceType('', 'v1', 'namespaces') as ResourceType;
  const saType = findResourceType('', 'v1', 'serviceaccounts') as ResourceType;
  // Like the serviceaccount controller: every namespace gets a "default" service account.
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
  for (const name of INITIAL_NAMESPACES) registry.create(nsType, undefined, { metadata: { name } });

  let url = '';

  function list(path: ResourcePath, q: URLSearchParams, accept: string, res: ServerResponse): void {
    const { rt } = path;
    const labels = parseLabelSelector(q.get('labelSelector'));
    const fields = parseFieldSelector(q.get('fieldSelector'), rt);
    const limit = intParam(q, 'limit');
    const cont = q.get('continue');
    let snap: ListSnapshot;
    let offset = 0;
    if (cont) {
      let token: { id?: string; offset?: number };
      try {
        token = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8'));
      } catch {
        throw badRequest('continue key is not valid: incorrect encoded start resourceVersion');
      }
      const found = snapshots.get(token.id ?? '');
      if (!found || found.rv < store.oldestWatchableRevision) {
        throw gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
      }
      snap = found;
      offset = token.offset ?? 0;
    } else {
      snap = { rv: store.resourceVersion, items: registry.list(rt, path.namespace, labels, fields) };
    }
    const end = limit ? Math.min(offset + limit, snap.items.length) : snap.items.length;
    const items = snap.items.slice(offset, end);
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (end < snap.items.length) {
      let id = cont ? (JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { id: string }).id : '';
      if (!id) {
        id = randomBytes(8).toString('hex');
        snapshots.set(id, snap);
        // Bounded memory: drop the oldest snapshot (its continue token then gets 410).
        if (snapshots.size > MAX_SNAPSHOTS) snapshots.delete(snapshots.keys().next().value as string);
      }
      metadata.continue = Buffer.from(JSON.stringify({ id, offset: end, rv: snap.rv })).toString('base64url');
      metadata.remainingItemCount = snap.items.length - end;
    }
    if (wantsTable(accept)) {
      sendJson(res, 200, tableFor(rt.kind, items, metadata, now()));
      return;
    }
    sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: apiVersionOf(rt), metadata, items });
  }

  async function handleResource(
    req: IncomingMessage,
    res: ServerResponse,
    path: ResourcePath,
    q: URLSearchParams,
    user: UserInfo,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const { rt, namespace, name, subresource } = path;
    const accept = String(req.headers.accept ?? '');
    const warnings: string[] = [];
    const writeOpts: WriteOptions = { warnings };
    const fv = q.get('fieldValidation');
    if (fv === 'Strict' || fv === 'Warn' || fv === 'Ignore') writeOpts.fieldValidation = fv;
    if (q.get('dryRun') === 'All') writeOpts.dryRun = true;
    if (subresource && !rt.subresources.includes(subresource)) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    }
    if (name === undefined) {
      if (method === 'GET') {
        const watch = q.get('watch');
        if (watch === 'true' || watch === '1') {
          const wr = {
            rt,
            labels: parseLabelSelector(q.get('labelSelector')),
            fields: parseFieldSelector(q.get('fieldSelector'), rt),
            allowBookmarks: q.get('allowWatchBookmarks') === 'true',
            timeoutSeconds: intParam(q, 'timeoutSeconds') ?? defaultWatchTimeout,
            asTable: wantsTable(accept),
            ...(namespace !== undefined ? { namespace } : {}),
            ...(q.get('resourceVersion') !== null
              ? { resourceVersion: q.get('resourceVersion') as string }
              : {}),
          };
          watches.serve(wr, res);
          return;
        }
        list(path, q, accept, res);
        return;
      }
      if (method === 'POST') {
        let body = await readObject(req);
        if (rt.kind === CSR_KIND && body !== null && typeof body === 'object')
          body = prepareCsrForCreate(body as KubeObject, user);
        const created = registry.create(rt, namespace, body, writeOpts);
        sendJson(res, 201, created, warnings);
        return;
      }
      if (method === 'DELETE') {
        const labels = parseLabelSelector(q.get('labelSelector'));
        const fields = parseFieldSelector(q.get('fieldSelector'), rt);
        const items = registry.list(rt, namespace, labels, fields);
        const deleted = items.map((o) =>
          registry.delete(rt, o.metadata.namespace, o.metadata.name as string, {}),
        );
        sendJson(res, 200, {
          kind: `${rt.kind}List`,
          apiVersion: apiVersionOf(rt),
          metadata: { resourceVersion: String(store.resourceVersion) },
          items: deleted,
        });
        return;
      }
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }

    if (rt.kind === 'Pod' && isPodProxySubresource(subresource)) {
      const pod = registry.get(rt, namespace, name);
      if (subresource === 'log' && method === 'GET') {
        await servePodLog(registry, options.kubelet ?? {}, pod, q, req, res);
        return;
      }
      if (subresource === 'log')
        throw methodNotAllowed('the server does not allow this method on the requested resource');
      // exec, attach and portforward only run over an upgraded connection (see handleUpgrade).
      throw badRequest('Upgrade request required');
    }

    if (subresource === 'scale') {
      const out = serveScale(
        registry,
        rt,
        namespace,
        name,
        method,
        String(req.headers['content-type'] ?? ''),
        method === 'GET' ? '' : await readBody(req),
      );
      sendJson(res, 200, out);
      return;
    }

    if (subresource === 'binding' || subresource === 'eviction' || subresource === 'token') {
      if (method !== 'POST')
        throw methodNotAllowed('the server does not allow this method on the requested resource');
      const body = parseJson(await readBody(req));
      if (subresource === 'token') {
        sendJson(res, 201, registry.createToken(rt, namespace as string, name, body));
        return;
      }
      if (subresource === 'binding') registry.bind(rt, namespace as string, name, body);
      else {
        const grace = (body as { deleteOptions?: { gracePeriodSeconds?: number } } | null)?.deleteOptions
          ?.gracePeriodSeconds;
        registry.delete(rt, namespace, name, grace === undefined ? {} : { gracePeriodSeconds: grace });
      }
      sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      return;
    }

    switch (method) {
      case 'GET': {
        const watch = q.get('watch');
        if (watch === 'true' || watch === '1') {
          // Watching a single object by URL name (old style) is a watch with a name filter.
          const wr = {
            rt,
            name,
            labels: [],
            fields: [],
            allowBookmarks: q.get('allowWatchBookmarks') === 'true',
            timeoutSeconds: intParam(q, 'timeoutSeconds') ?? defaultWatchTimeout,
            asTable: wantsTable(accept),
            ...(namespace !== undefined ? { namespace } : {}),
            ...(q.get('resourceVersion') !== null
              ? { resourceVersion: q.get('resourceVersion') as string }
              : {}),
          };
          watches.serve(wr, res);
          return;
        }
        const obj = registry.get(rt, namespace, name);
        if (wantsTable(accept))
          sendJson(
            res,
            200,
            tableFor(rt.kind, [obj], { resourceVersion: obj.metadata.resourceVersion }, now()),
          );
        else sendJson(res, 200, obj);
        return;
      }
      case 'PUT':
        sendJson(
          res,
          200,
          registry.update(rt, namespace, name, await readObject(req), subresource, writeOpts),
          warnings,
        );
        return;
      case 'PATCH': {
        const type = String(req.headers['content-type'] ?? '');
        const body = await readBody(req);
        const existed = registry.find(rt, namespace, name) !== undefined;
        const out = registry.patch(rt, namespace, name, type, body, subresource, writeOpts);
        sendJson(res, existed ? 200 : 201, out, warnings);
        return;
      }
      case 'DELETE': {
        const text = await readBody(req);
        const opts: DeleteOptions = {};
        let deleteBody: { propagationPolicy?: unknown; orphanDependents?: unknown } | undefined;
        if (text.trim()) {
          const body = parseJson(text) as {
            gracePeriodSeconds?: number;
            preconditions?: DeleteOptions['preconditions'];
            propagationPolicy?: unknown;
            orphanDependents?: unknown;
          };
          if (body?.gracePeriodSeconds !== undefined) opts.gracePeriodSeconds = body.gracePeriodSeconds;
          if (body?.preconditions) opts.preconditions = body.preconditions;
          deleteBody = body ?? undefined;
        }
        const g = intParam(q, 'gracePeriodSeconds');
        if (g !== undefined) opts.gracePeriodSeconds = g;
        if (writeOpts.dryRun) opts.dryRun = true;
        // Foreground and Orphan need the garbage collector (controlPlane); without it every
        // delete is what it always was here: the object goes, dependents stay.
        const policy = propagationPolicyOf(q.get('propagationPolicy'), deleteBody);
        if (policy && controlPlane?.garbageCollector && !opts.dryRun)
          prepareDeletion(registry, rt, namespace, name, policy);
        const out = registry.delete(rt, namespace, name, opts);
        if (rt.kind === 'Namespace' && !registry.find(rt, undefined, name)) cascadeNamespace(name);
        // Graceful deletion answers 202-less 200 with the object; immediate deletion too.
        sendJson(res, 200, out);
        return;
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  /** Deleting a namespace deletes what it holds (the namespace controller's job). */
  function cascadeNamespace(ns: string): void {
    for (const r of ['pods', 'services', 'endpoints', 'configmaps', 'secrets', 'serviceaccounts', 'events']) {
      const rt = findResourceType('', 'v1', r) as ResourceType;
      for (const o of registry.list(rt, ns)) store.remove(`/${r}`, ns, o.metadata.name as string);
    }
    for (const [g, r] of [
      ['discovery.k8s.io', 'endpointslices'],
      ['coordination.k8s.io', 'leases'],
      ['apps', 'replicasets'],
      ['apps', 'deployments'],
    ] as const) {
      const rt = findResourceType(g, 'v1', r) as ResourceType;
      for (const o of registry.list(rt, ns)) store.remove(`${g}/${r}`, ns, o.metadata.name as string);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const p = u.pathname.replace(/\/+$/, '') || '/';
    const failure = faults.takeFailure(method, p);
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    if (failure) {
      const reason =
        failure.code === 429
          ? 'TooManyRequests'
          : failure.code === 503
            ? 'ServiceUnavailable'
            : 'InternalError';
      const err = new ApiError(
        failure.code,
        reason,
        `injected failure (${failure.code})`,
        failure.retryAfterSeconds === undefined
          ? undefined
          : { retryAfterSeconds: failure.retryAfterSeconds },
      );
      if (failure.retryAfterSeconds !== undefined)
        res.setHeader('Retry-After', String(failure.retryAfterSeconds));
      sendJson(res, failure.code, err.toStatus());
      return;
    }
    const user = authenticateRequest(req, registry, now());
    options.audit?.(user, method, p);
    if (method === 'GET') {
      const fixed = fixedEndpoint(p);
      if (fixed !== undefined) {
        if (typeof fixed === 'string') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(fixed);
        } else sendJson(res, 200, fixed);
        return;
      }
    }
    // nodes/{name}/proxy/{path}: GETs passed to that node's kubelet (kubectl get --raw ...).
    const nodeProxy = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/.exec(u.pathname);
    if (nodeProxy) {
      if (method !== 'GET') throw methodNotAllowed('only GET is proxied to the kubelet');
      const location = kubeletLocationForNode(
        registry,
        decodeURIComponent(nodeProxy[1] as string),
        options.kubelet,
      );
      await serveKubeletGet(location, `${nodeProxy[2] ?? '/'}${u.search}`, options.kubelet ?? {}, req, res);
      return;
    }
    const path = parseResourcePath(p);
    if (path === undefined || path === 'unknown') {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    await handleResource(req, res, path, u.searchParams, user);
  }

  /** Discovery, version, health and OpenAPI: answers that do not depend on stored objects. */
  function fixedEndpoint(p: string): unknown {
    if (p === '/healthz' || p === '/livez' || p === '/readyz') return 'ok';
    if (p === '/version') return SERVER_VERSION;
    if (p === '/api') return apiVersions(url.replace(/^https?:\/\//, ''));
    if (p === '/apis') return apiGroupList();
    if (p === '/api/v1') return apiResourceList('', 'v1');
    if (p === '/openapi/v2') return openApiV2();
    if (p === '/openapi/v3') return openApiV3Root();
    if (p.startsWith('/openapi/v3/')) return openApiV3Document(p.slice('/openapi/v3/'.length)) ?? undefined;
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(p);
    if (m) return m[2] ? apiResourceList(m[1] as string, m[2]) : apiGroup(m[1] as string);
    return undefined;
  }

  /** Upgrade requests: pods/exec, pods/attach and pods/portforward, proxied to the kubelet. */
  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const path = parseResourcePath(u.pathname.replace(/\/+$/, ''));
    if (path === undefined || path === 'unknown' || path.name === undefined) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const { rt, namespace, name, subresource } = path;
    if (rt.kind !== 'Pod' || !isPodProxySubresource(subresource)) {
      throw badRequest(
        `upgrade requests are only served for pods/exec, pods/attach, pods/portforward and pods/log`,
      );
    }
    const pod = registry.get(rt, namespace, name);
    if (subresource === 'log') {
      await servePodLogWebSocket(registry, options.kubelet ?? {}, pod, u.searchParams, req, socket);
      return;
    }
    await servePodStream(
      registry,
      options.kubelet ?? {},
      pod,
      subresource,
      u.searchParams,
      req,
      socket,
      head,
    );
  }

  /** Upgraded connections: the HTTP server no longer tracks them, so close() ends them itself. */
  const upgraded = new Set<Duplex>();
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgraded.add(socket);
    socket.on('close', () => upgraded.delete(socket));
    socket.on('error', () => undefined);
    handleUpgrade(req, socket, head).catch((err: unknown) => {
      writeRawStatus(
        socket,
        err instanceof ApiError
          ? err
          : new ApiError(
              500,
              'InternalError',
              `Internal error occurred: ${(err as Error)?.message ?? String(err)}`,
            ),
      );
    });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const apiErr =
        err instanceof ApiError
          ? err
          : new ApiError(
              500,
              'InternalError',
              `Internal error occurred: ${(err as Error)?.message ?? String(err)}`,
            );
      sendJson(res, apiErr.code, apiErr.toStatus());
    });
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
  let controlPlane: ControlPlane | undefined;
  try {
    controlPlane = cpOptions ? startControlPlane(registry, cpOptions) : undefined;
  } catch (err) {
    certificates?.stop();
    stopRootCAPublisher?.();
    throw err;
  }
  // Client certificates are asked for, not required: verified ones authenticate (request-authentication.ts).
  const server: Server = servingCert
    ? createHttpsServer(
        {
          cert: servingCert.cert,
          key: servingCert.key,
          ...(certificates
            ? { ca: certificates.ca.certPem, requestCert: true, rejectUnauthorized: false }
            : {}),
        },
        onRequest,
      )
    : createServer(onRequest);
  server.keepAliveTimeout = 60_000;
  server.on('upgrade', onUpgrade);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
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
    get openWatches() {
      return watches.size;
    },
    kubeConfig: () => kubeConfigFor(url, servingCert?.cert),
    writeKubeconfig: (path: string) => writeKubeconfigFile(url, path, servingCert?.cert),
    resource(apiVersion: string, plural: string): ResourceType {
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      const rt = findResourceType(group as string, version as string, plural);
      if (!rt) throw new ApiError(404, 'NotFound', `unknown resource ${apiVersion} ${plural}`);
      return rt;
    },
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
    close: () =>
      new Promise<void>((resolve) => {
        sliceController?.stop();
        stopRootCAPublisher?.();
        certificates?.stop();
        controlPlane?.stop();
        watches.endAll();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }),
  };
}
