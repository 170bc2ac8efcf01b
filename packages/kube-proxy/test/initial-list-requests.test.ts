import { FakeClock } from '@nodeagent/primitives';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClusterWatch, type ProxyHandler, watchCluster } from '../src/index';
import { rateLimitedKubeConfig, TokenBucketRateLimiter } from '../src/runtime/index';
import { service, slice } from './fixtures';

// Issue #54: at 44,000 Services the daemon spent ~33 s before its first sync waiting for its own
// client's token bucket (clientConnection qps 5, burst 10, upstream's defaults), because its
// informers listed in pages of 500: 176 requests. Upstream v1.36 reads each resource's initial
// state in one request (a watch-list stream, or a resourceVersion=0 LIST the watch cache answers
// whole), so its start-up never waits on the bucket for the lists. Here the bucket runs on a
// clock that never moves: a request past the burst records the wait it would have made.

const SERVICES = 3_000; // 6 pages of 500 each for Services and for slices: past the burst of 10
const SERVICES_PATH = '/api/v1/services';
const SLICES_PATH = '/apis/discovery.k8s.io/v1/endpointslices';

let api: ApiServer | undefined;
let watch: ClusterWatch | undefined;

afterEach(async () => {
  await watch?.stop();
  await api?.close();
  api = undefined;
  watch = undefined;
});

/** A handler that records, at each initial-sync signal, how many GETs its resource had had. */
function listCounter(gets: Map<string, number>) {
  const at = { services: -1, endpointSlices: -1 };
  const noop = () => undefined;
  const handler: ProxyHandler = {
    onServiceAdd: noop,
    onServiceUpdate: noop,
    onServiceDelete: noop,
    // The watch that follows a list cannot have reached the server yet: this runs in the
    // list's own continuation, before the event loop does any more I/O.
    onServicesSynced: () => {
      at.services = gets.get(SERVICES_PATH) ?? 0;
    },
    onEndpointSliceAdd: noop,
    onEndpointSliceUpdate: noop,
    onEndpointSliceDelete: noop,
    onEndpointSlicesSynced: () => {
      at.endpointSlices = gets.get(SLICES_PATH) ?? 0;
    },
    onNode: noop,
  };
  return { at, handler };
}

describe("kube-proxy's informers read the initial state in one request per resource", () => {
  it(`lists ${SERVICES} Services and their EndpointSlices without waiting for the qps 5 / burst 10 bucket`, async () => {
    const gets = new Map<string, number>();
    api = await startApiServer({
      audit: (_user, method, path) => {
        if (method === 'GET') gets.set(path, (gets.get(path) ?? 0) + 1);
      },
    });
    for (let i = 0; i < SERVICES; i++) {
      const name = `svc-${i}`;
      api.registry.create(
        api.resource('v1', 'services'),
        'default',
        service(name, { clusterIP: `10.96.${1 + (i >> 8)}.${i & 255}` }),
      );
      api.registry.create(
        api.resource('discovery.k8s.io/v1', 'endpointslices'),
        'default',
        slice(name, [{ ip: `10.244.${i >> 8}.${1 + (i & 127)}`, node: 'node-b' }]),
      );
    }
    const clock = new FakeClock(1_700_000_000_000);
    let waitedMs = 0;
    const limiter = new TokenBucketRateLimiter({
      qps: 5,
      burst: 10,
      now: () => clock.now(),
      sleep: async (ms) => {
        waitedMs += ms;
      },
    });
    const counter = listCounter(gets);
    watch = watchCluster({
      kubeConfig: rateLimitedKubeConfig(api.kubeConfig(), limiter),
      nodeName: 'node-a',
      handler: counter.handler,
    });
    // watchCluster's own sync callbacks were queued first: they have run once these resolve.
    await Promise.all([watch.services.waitForSync(), watch.endpointSlices.waitForSync()]);

    expect(watch.services.list()).toHaveLength(SERVICES);
    expect(watch.endpointSlices.list()).toHaveLength(SERVICES);
    expect(counter.at).toEqual({ services: 1, endpointSlices: 1 });
    // In pages of 500 this was 12 lists plus the Node's, past the burst of 10: the later ones waited.
    expect(waitedMs).toBe(0);
  });
});
