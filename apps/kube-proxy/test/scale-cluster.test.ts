import { PROXY_LABEL_SELECTOR } from '@nodeagent/kube-proxy';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { parseLabelSelector } from '@nodeagent/testing/apiserver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_NAMESPACE, populateCluster, WARM_SLICE, warmServerUpdates } from '../bench/scale-cluster';

// The scale bench's warm-up of its own API server (issue #54): the writes must reach the server's
// update path and never the daemon, whose watches carry kube-proxy's label selector.

let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer();
  populateCluster(api, 2, 3);
});

afterAll(async () => {
  await api?.close();
});

describe('warmServerUpdates', () => {
  it("updates a slice kube-proxy's selector leaves out, and leaves the bench's slices alone", () => {
    const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
    const before = api.registry.list(sliceType, BENCH_NAMESPACE).map((s) => s.metadata.resourceVersion);
    warmServerUpdates(api, 5);
    const all = api.registry.list(sliceType, BENCH_NAMESPACE);
    const warm = all.find((s) => s.metadata.name === WARM_SLICE) as
      | (Record<string, unknown> & { endpoints: { addresses: string[] }[] })
      | undefined;
    // Created, then updated five times: the last update's address is stored.
    expect(warm?.endpoints.map((e) => e.addresses)).toEqual([['198.51.100.2']]);
    expect(all.filter((s) => s.metadata.name !== WARM_SLICE).map((s) => s.metadata.resourceVersion)).toEqual(
      before,
    );
    const seen = api.registry.list(sliceType, BENCH_NAMESPACE, parseLabelSelector(PROXY_LABEL_SELECTOR));
    expect(seen.map((s) => s.metadata.name).sort()).toEqual(['svc-0-abcde', 'svc-1-abcde']);
  });

  it('warms the same server again for the next scenario of the shape (nftables, then iptables)', () => {
    const sliceType = api.resource('discovery.k8s.io/v1', 'endpointslices');
    // The first scenario's warm-up, so that this test does not lean on the one above.
    warmServerUpdates(api, 1);
    const before = Number(api.registry.get(sliceType, BENCH_NAMESPACE, WARM_SLICE).metadata.resourceVersion);
    warmServerUpdates(api, 4);
    const warm = api.registry.get(sliceType, BENCH_NAMESPACE, WARM_SLICE);
    expect(Number(warm.metadata.resourceVersion)).toBeGreaterThan(before);
    expect(
      api.registry.list(sliceType, BENCH_NAMESPACE).filter((s) => s.metadata.name === WARM_SLICE),
    ).toHaveLength(1);
  });
});
