import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClusterWatch, type ProxyHandler, watchCluster } from '../src/index';
import { service, slice } from './fixtures';

// Issue #54: watchCluster's first watch-list streams hand each Service and EndpointSlice to the
// handler as it arrives (the informers' applyInitialEventsAsTheyArrive), so the stream's end
// leaves nothing to convert before the first sync; the informers still sync only at the end
// bookmark. Held until the bookmark instead, the whole batch would be in the cache before the
// handler saw the first object.

let api: ApiServer | undefined;
let watch: ClusterWatch | undefined;

afterEach(async () => {
  await watch?.stop();
  await api?.close();
  api = undefined;
  watch = undefined;
});

/** Per add: how many objects its informer's cache held then, and whether that informer had synced. */
interface AddSeen {
  cached: number;
  synced: boolean;
}

describe('watchCluster at start-up', () => {
  it('hands each Service and EndpointSlice of the first stream over as it arrives, synced only at the end', async () => {
    api = await startApiServer();
    const services = api.resource('v1', 'services');
    const slices = api.resource('discovery.k8s.io/v1', 'endpointslices');
    const count = 5;
    for (let i = 0; i < count; i++) {
      api.registry.create(services, 'default', service(`svc-${i}`, { clusterIP: `10.96.0.${20 + i}` }));
      api.registry.create(slices, 'default', slice(`svc-${i}`, [{ ip: `10.244.0.${i + 1}` }]));
    }
    const serviceAdds: AddSeen[] = [];
    const sliceAdds: AddSeen[] = [];
    const handler: ProxyHandler = {
      onServiceAdd: () => {
        const w = watch as ClusterWatch;
        serviceAdds.push({ cached: w.services.list().length, synced: w.services.hasSynced() });
      },
      onServiceUpdate: () => undefined,
      onServiceDelete: () => undefined,
      onServicesSynced: () => undefined,
      onEndpointSliceAdd: () => {
        const w = watch as ClusterWatch;
        sliceAdds.push({ cached: w.endpointSlices.list().length, synced: w.endpointSlices.hasSynced() });
      },
      onEndpointSliceUpdate: () => undefined,
      onEndpointSliceDelete: () => undefined,
      onEndpointSlicesSynced: () => undefined,
      onNode: () => undefined,
    };
    watch = watchCluster({ kubeConfig: api.kubeConfig(), nodeName: 'node-a', handler });
    await Promise.all([watch.services.waitForSync(), watch.endpointSlices.waitForSync()]);

    const oneByOne = Array.from({ length: count }, (_, i) => ({ cached: i + 1, synced: false }));
    expect(serviceAdds).toEqual(oneByOne);
    expect(sliceAdds).toEqual(oneByOne);
    expect(watch.services.list()).toHaveLength(count);
    expect(watch.endpointSlices.list()).toHaveLength(count);
  });
});
