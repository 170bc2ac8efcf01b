import type { KubeConfig, V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { Informer, stripLastAppliedConfiguration, stripManagedFields } from '@nodeagent/informer';
import type { Wire } from '@nodeagent/primitives';
import { retainedEndpointSlice } from '../model/retained-endpoint-slice';
import { retainedService } from '../model/retained-service';
import type { ProxyHandler } from './proxy-handler';

/**
 * Services and slices that belong to another service proxy, or are headless, are not ours
 * (upstream's informer label selector).
 */
export const PROXY_LABEL_SELECTOR =
  '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';

/** Options of watchCluster. */
export interface WatchClusterOptions {
  /** API server, TLS and credentials of the informers. */
  kubeConfig: KubeConfig;
  /** This node's name: its Node object is the only one watched. */
  nodeName: string;
  /** Receives every Service, EndpointSlice and Node event, and the initial-sync signals. */
  handler: ProxyHandler;
  /** Told of every list/watch failure the informers recover from (they retry with backoff). */
  onError?: (err: unknown) => void;
  /** Passed to every reflector (tests shorten watch timeouts). */
  watchTimeoutSeconds?: number;
  /**
   * List and watch Services and EndpointSlices as protobuf (upstream's default content type;
   * the daemon's `listsAsProtobuf`). A server that answers JSON is still understood.
   */
  protobuf?: boolean;
}

/**
 * The running informers watchCluster started (their caches hold the slimmed Node, Services with
 * only what the change tracker reads (retainedService), and EndpointSlices without their endpoints).
 */
export interface ClusterWatch {
  /** Services with the proxy's label selector (no service-proxy-name, not headless). */
  readonly services: Informer<Wire<V1Service>>;
  /** EndpointSlices with the same label selector. */
  readonly endpointSlices: Informer<Wire<V1EndpointSlice>>;
  /** This node's Node object only. */
  readonly node: Informer<Wire<V1Node>>;
  /** Stops the three informers; resolves once their watches have ended. */
  stop(): Promise<void>;
}

/*
 * Informer transforms: what the proxier never reads is dropped before caching, since the caches
 * hold every Service and EndpointSlice for the life of the process (apps/kube-proxy/bench/rss.bench.ts).
 * Objects are rebuilt without the fields rather than `delete`d from, which would switch them
 * to V8's larger dictionary mode.
 */
const slimService = (svc: Wire<V1Service>): Wire<V1Service> =>
  stripLastAppliedConfiguration(stripManagedFields(svc));

/**
 * An EndpointSlice's endpoints are left as decoded: nothing keeps them (the store retains the
 * slice without endpoints, the change trackers convert them as each slice arrives), so copying
 * each one without `targetRef` and `deprecatedTopology` (and a shared conditions object, when a
 * watch-list stream held every slice to its end) saved no memory and cost ~0.27 CPU-s of the
 * main thread before the first sync at 250k endpoints (issue #54).
 */
function slimEndpointSlice(slice: Wire<V1EndpointSlice>): Wire<V1EndpointSlice> {
  stripLastAppliedConfiguration(stripManagedFields(slice));
  if (slice.metadata?.ownerReferences) {
    const { ownerReferences: _owners, ...metadata } = slice.metadata;
    slice.metadata = metadata;
  }
  return slice;
}

function slimNode(node: Wire<V1Node>): Wire<V1Node> {
  stripLastAppliedConfiguration(stripManagedFields(node));
  // The image list can run to tens of kB per node.
  if (node.status?.images) {
    const { images: _images, ...status } = node.status;
    node.status = status;
  }
  return node;
}

/**
 * The informers' LIST page size: 0, one request per resource. Upstream v1.36's reflectors read
 * the initial state in one request too (a watch-list stream, WatchListClient on since 1.35, or
 * else a resourceVersion=0 LIST the watch cache answers whole, ignoring its limit), and every
 * request waits for clientConnection's token bucket (qps 5, burst 10 by default): in pages of
 * 500, 44,000 Services and their slices were 176 requests, ~33 s of waiting before the first
 * sync could start (issue #54).
 */
const INITIAL_LIST_PAGE_SIZE = 0;

/*
 * What a protobuf decode leaves out (never built, where the JSON path builds then drops it):
 * the fields the transforms above drop, and an endpoint's targetRef and deprecatedTopology,
 * which the proxier never reads. Annotations stay: last-change-trigger-time feeds the network
 * programming latency, and the watch-list's end bookmark is an annotation.
 */
const SERVICE_PROTOBUF = { omit: ['metadata.managedFields'] } as const;
const ENDPOINT_SLICE_PROTOBUF = {
  omit: [
    'metadata.managedFields',
    'metadata.ownerReferences',
    'endpoints.targetRef',
    'endpoints.deprecatedTopology',
  ],
} as const;

/** Starts the Service, EndpointSlice and own-Node informers feeding `handler`. */
export function watchCluster(opts: WatchClusterOptions): ClusterWatch {
  const common = {
    kubeConfig: opts.kubeConfig,
    onError: opts.onError,
    pageSize: INITIAL_LIST_PAGE_SIZE,
    ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
  };
  const h = opts.handler;
  const services = new Informer<Wire<V1Service>>({
    ...common,
    resource: { apiVersion: 'v1', plural: 'services' },
    labelSelector: PROXY_LABEL_SELECTOR,
    ...(opts.protobuf ? { protobuf: SERVICE_PROTOBUF } : {}),
    transform: slimService,
    // Each Service of the first watch-list stream goes to the handler (the change tracker, which
    // keeps its own form of it) and the cache's retained form as it arrives, not all at the
    // stream's end: the decoded Services then die in the young generation instead of being
    // promoted first. The first sync still waits for both informers' syncs.
    applyInitialEventsAsTheyArrive: true,
    // An update's or deletion's old Service is all that is read of a cached one.
    retain: retainedService,
  });
  services.onAdd((s) => h.onServiceAdd(s));
  services.onUpdate((o, s) => h.onServiceUpdate(o, s));
  services.onDelete((s) => h.onServiceDelete(s));

  const endpointSlices = new Informer<Wire<V1EndpointSlice>>({
    ...common,
    resource: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' },
    labelSelector: PROXY_LABEL_SELECTOR,
    ...(opts.protobuf ? { protobuf: ENDPOINT_SLICE_PROTOBUF } : {}),
    transform: slimEndpointSlice,
    // An update's old slice is ignored, a deletion's read for its Service, name and family.
    retain: retainedEndpointSlice,
    // As the Services: each slice of the first stream goes to the change trackers (which keep
    // only its endpoints' model form) as it arrives, so the stream's end leaves nothing to
    // convert before the first sync and the decoded slices die young. The scale bench at 1M
    // endpoints (`npm run bench:scale -w apps/kube-proxy`) peaked at 472-489 MB this way against
    // 529-744 MB with the slices held, and entered its first sync with 135 MB of V8 heap, not 218.
    applyInitialEventsAsTheyArrive: true,
  });
  endpointSlices.onAdd((s) => h.onEndpointSliceAdd(s));
  endpointSlices.onUpdate((o, s) => h.onEndpointSliceUpdate(o, s));
  endpointSlices.onDelete((s) => h.onEndpointSliceDelete(s));

  const node = new Informer<Wire<V1Node>>({
    ...common,
    resource: { apiVersion: 'v1', plural: 'nodes' },
    fieldSelector: `metadata.name=${opts.nodeName}`,
    transform: slimNode,
  });
  node.onAdd((n) => h.onNode(n));
  node.onUpdate((_o, n) => h.onNode(n));

  services.start();
  endpointSlices.start();
  node.start();
  services.waitForSync().then(
    () => h.onServicesSynced(),
    (err) => opts.onError?.(err),
  );
  endpointSlices.waitForSync().then(
    () => h.onEndpointSlicesSynced(),
    (err) => opts.onError?.(err),
  );
  return {
    services,
    endpointSlices,
    node,
    async stop() {
      await Promise.all([services.stop(), endpointSlices.stop(), node.stop()]);
    },
  };
}
