import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { EndpointsChangeTracker } from '../src/index';
import { retainedEndpointSlice } from '../src/model/retained-endpoint-slice';
import { slice } from './fixtures';

// Issue #54: watchCluster's EndpointSlice cache keeps retainedEndpointSlice's form; a deletion
// found on a relist hands that form to the change tracker. Whole or retained, the deletion must
// remove the same endpoints.

/** Two slices of `web` and one of `db`, with fields the tracker does not read set too. */
function slices(): Wire<V1EndpointSlice>[] {
  const annotated = {
    annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
  };
  const all = [
    slice('web', [{ ip: '10.0.0.1', node: 'node-a' }, { ip: '10.0.0.2' }], { name: 'web-a', ...annotated }),
    slice('web', [{ ip: '10.0.0.3' }], { name: 'web-b' }),
    slice('db', [{ ip: '10.0.1.1' }], { name: 'db-a', namespace: 'data' }),
  ];
  for (const s of all) {
    s.metadata = {
      ...s.metadata,
      uid: `uid-${s.metadata?.name}`,
      resourceVersion: '42',
      generation: 3,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'x', uid: 'u' }],
      labels: { ...s.metadata?.labels, 'endpointslice.kubernetes.io/managed-by': 'controller' },
    };
  }
  return all;
}

/** The endpoints map after adding every slice, then deleting `gone` (whole or retained). */
function afterDeletion(gone: (s: Wire<V1EndpointSlice>) => Wire<V1EndpointSlice>, which: number) {
  const tracker = new EndpointsChangeTracker('IPv4', 'node-a');
  for (const s of slices()) tracker.endpointSliceUpdate(s, false);
  const added = tracker.checkout();
  const held = new Map<string, readonly unknown[]>();
  for (const change of added.changes.values()) for (const [k, v] of change.current) held.set(k, v);
  tracker.endpointSliceUpdate(gone(slices()[which]!), true);
  const removed = tracker.checkout(held as never);
  return [...removed.changes].map(([svc, c]) => [svc, [...c.previous.keys()], [...c.current.keys()]]);
}

describe('retainedEndpointSlice', () => {
  it('keeps what the informer and a deletion read: name, namespace, version, Service label, family', () => {
    const kept = retainedEndpointSlice(slices()[0]!);
    expect(kept).toEqual({
      metadata: {
        name: 'web-a',
        namespace: 'default',
        resourceVersion: '42',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      addressType: 'IPv4',
      endpoints: [],
    });
    const unlabelled = slices()[0]!;
    unlabelled.metadata = { ...unlabelled.metadata, labels: {} };
    expect(retainedEndpointSlice(unlabelled).metadata?.labels).toBeUndefined();
  });

  it('a deletion of the retained form removes what the whole slice does', () => {
    for (const which of [0, 1, 2]) {
      const whole = afterDeletion((s) => s, which);
      expect(whole.length).toBe(1);
      expect(afterDeletion(retainedEndpointSlice, which)).toEqual(whole);
    }
  });
});
