import { describe, expect, it } from 'vitest';
import { ProxyState } from '../src/model/proxy-snapshot';
import { NftablesRuleset } from '../src/nftables/index';
import { service, slice } from './fixtures';

// Issue #54: one endpoint change must cost work proportional to the change, not to the
// cluster: the same Services re-rendered, changed Services reported and nf_tables messages
// (transaction operations, one netlink message each) at 100 × 50 as at 5,000 × 50 (250k
// endpoints). Counts only; how long it takes is the scale bench's business.

const ENDPOINTS = 50;

function ip(service: number, endpoint: number): string {
  const n = service * ENDPOINTS + endpoint;
  return `10.${128 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
}

function endpointsOf(s: number, moved?: string) {
  return Array.from({ length: ENDPOINTS }, (_, e) => ({
    ip: e === 0 && moved ? moved : ip(s, e),
    node: e % 2 ? 'node-a' : 'node-b',
  }));
}

interface ChangeCost {
  changedServices: number;
  rewritten: number;
  operations: number;
  script: string[];
}

/** A cluster of `services` × 50, fully synced; then endpoint 0 of Service 7 moves to a new address. */
function oneEndpointChange(services: number): ChangeCost {
  const state = new ProxyState('IPv4', 'node-a');
  for (let s = 0; s < services; s++) {
    state.onService(
      undefined,
      service(`s${s}`, { clusterIP: `10.96.${s >> 8}.${s & 255}`, ports: [{ name: 'p', port: 80 }] }),
    );
    state.onEndpointSlice(slice(`s${s}`, endpointsOf(s), { ports: [{ name: 'p', port: 8080 }] }), false);
  }
  const ruleset = new NftablesRuleset('IPv4');
  expect(ruleset.update(state.snapshot())).toBe(services);
  ruleset.commit();

  state.onEndpointSlice(
    slice('s7', endpointsOf(7, '10.250.0.1'), { ports: [{ name: 'p', port: 8080 }] }),
    false,
  );
  const snapshot = state.snapshot();
  const rewritten = ruleset.update(snapshot);
  const tx = ruleset.diffTransaction();
  if (!tx) throw new Error('no diff transaction after a committed full sync');
  return {
    changedServices: snapshot.changedServices.size,
    rewritten,
    operations: tx.size,
    script: tx.operations.map((op) => `${op.verb} ${op.object.kind}`),
  };
}

describe('a Node update without a topology change costs the next endpoint change nothing', () => {
  it('one Service port rewritten after the Node changed another label; every port after its zone changed', () => {
    const state = new ProxyState('IPv4', 'node-a');
    state.setNodeLabels({ 'kubernetes.io/hostname': 'node-a' });
    for (let s = 0; s < 20; s++) {
      state.onService(
        undefined,
        service(`s${s}`, { clusterIP: `10.96.0.${s}`, ports: [{ name: 'p', port: 80 }] }),
      );
      state.onEndpointSlice(slice(`s${s}`, endpointsOf(s), { ports: [{ name: 'p', port: 8080 }] }), false);
    }
    const ruleset = new NftablesRuleset('IPv4');
    expect(ruleset.update(state.snapshot())).toBe(20);
    ruleset.commit();
    // Its status or another label: the snapshot's labels are the object the ruleset wrote with.
    state.setNodeLabels({ 'kubernetes.io/hostname': 'node-a', 'example.com/pool': 'blue' });
    state.onEndpointSlice(
      slice('s7', endpointsOf(7, '10.250.0.1'), { ports: [{ name: 'p', port: 8080 }] }),
      false,
    );
    let snapshot = state.snapshot();
    expect(ruleset.walksAll(snapshot)).toBe(false);
    expect(ruleset.update(snapshot)).toBe(1);
    ruleset.commit();
    // Its zone: topology may change for every Service, each one is rendered again.
    state.setNodeLabels({ 'kubernetes.io/hostname': 'node-a', 'topology.kubernetes.io/zone': 'z1' });
    snapshot = state.snapshot();
    expect(ruleset.walksAll(snapshot)).toBe(true);
    expect(ruleset.update(snapshot)).toBe(20);
  });
});

describe('one endpoint change costs the same at 100 × 50 and 5,000 × 50', () => {
  it('the same Services re-rendered and the same nf_tables operations', { timeout: 120_000 }, () => {
    const small = oneEndpointChange(100);
    const large = oneEndpointChange(5000);
    expect(small.changedServices).toBe(1);
    expect(small.rewritten).toBe(1);
    // The moved endpoint's map element out and in, and the new address's hairpin element.
    expect(small.operations).toBeLessThanOrEqual(4);
    expect(large).toEqual(small);
  });
});
