import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { guestSpeedFactor } from '../../../../tools/vm/speed';
import { type ClusterWatch, multiFamilyHandler, type ProxyHandler, watchCluster } from '../../src/index';
import type { PacketTopology } from './packet-topology';

/**
 * The setup the proxier tests against the in-process API server share: proxiers fed by real
 * informers, objects written into the server's registry, polling for convergence, and
 * teardown in reverse order. The namespace topology itself is in packet-topology.ts.
 */

/** A proxier the harness can start and stop (every mode is one). */
export interface StartableProxier extends ProxyHandler {
  start(): void;
  stop(): Promise<void>;
}

export interface ProxyCluster {
  api: ApiServer;
  watch: ClusterWatch;
  /** Creates or replaces a Service in namespace `default`. */
  putService(svc: Wire<V1Service>): void;
  /** Creates or replaces an EndpointSlice in namespace `default`. */
  putSlice(slice: Wire<V1EndpointSlice>): void;
}

/**
 * Starts the API server, then builds the proxiers (they may need nothing from it), starts
 * them and points informers for `nodeName` at them (one handler fanning out per family).
 */
export async function startProxyCluster(
  nodeName: string,
  proxiers: readonly StartableProxier[],
  watchOptions: { watchTimeoutSeconds?: number } = {},
): Promise<ProxyCluster> {
  const api = await startApiServer();
  for (const p of proxiers) p.start();
  const watch = watchCluster({
    kubeConfig: api.kubeConfig(),
    nodeName,
    handler: multiFamilyHandler(proxiers),
    ...watchOptions,
  });
  return {
    api,
    watch,
    putService: (svc) => put(api, 'v1', 'services', svc),
    putSlice: (slice) => put(api, 'discovery.k8s.io/v1', 'endpointslices', slice),
  };
}

/**
 * Stops what a test started, newest first: informers, proxiers, API server, topology. Any
 * part may be missing when beforeAll failed half-way.
 */
export async function stopProxyCluster(parts: {
  cluster?: ProxyCluster;
  proxiers?: readonly (StartableProxier | undefined)[];
  topo?: PacketTopology;
}): Promise<void> {
  await parts.cluster?.watch.stop();
  for (const p of parts.proxiers ?? []) await p?.stop();
  await parts.cluster?.api.close();
  await parts.topo?.cleanup();
}

/** Creates the object in namespace `default`, or replaces it at its current resourceVersion. */
function put(
  api: ApiServer,
  apiVersion: string,
  plural: string,
  obj: Wire<V1Service> | Wire<V1EndpointSlice>,
): void {
  const rt = api.resource(apiVersion, plural);
  const name = obj.metadata!.name!;
  const existing = api.registry.find(rt, 'default', name);
  if (existing) {
    api.registry.update(rt, 'default', name, {
      ...obj,
      metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion },
    });
  } else api.registry.create(rt, 'default', obj);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `fn` every 100ms until `ok` accepts its value or the time is up, and returns the last
 * value (so a failing expectation shows what was seen). The default limit is a hang guard, half a
 * test's time: a sync beside the whole suite on a loaded 2-core machine took over 10 s.
 */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  // Inside the micro-VM the limit grows with how slow this run's boot was (1 elsewhere).
  const end = Date.now() + timeoutMs * guestSpeedFactor();
  let last: T = await fn();
  while (!ok(last) && Date.now() < end) {
    await sleep(100);
    last = await fn();
  }
  return last;
}

/**
 * Polls `cond` until it holds or the time is up, then asks it once more: the answer is
 * whether it holds after the wait, not just whether it held once.
 */
export async function until(
  cond: () => boolean | Promise<boolean>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await cond()) && Date.now() < end) await sleep(intervalMs);
  return cond();
}
