import { describe, expect, it } from 'vitest';
import { resourceFitAdmitHandler } from '../src/admission/resource-fit-admit';
import { isExtendedResourceName } from '../src/api/extended-resource-name';
import type { Pod } from '../src/api/pod-types';

function pod(name: string, resources: Record<string, string>): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { limits: resources } }] },
  } as Pod;
}

describe('extended resources in the resource fit (upstream generalFilter via the predicate admit handler)', () => {
  const node = { cpu: '2', memory: '4Gi', 'example.com/dongle': '2' };

  it("refuses a pod needing more of a Node's extended resource than is left with OutOf<name> and upstream's text", () => {
    const fit = resourceFitAdmitHandler(() => node);
    expect(
      fit.admit({
        pod: pod('b', { 'example.com/dongle': '2' }),
        otherPods: [pod('a', { 'example.com/dongle': '1' })],
      }),
    ).toEqual({
      admit: false,
      reason: 'OutOfexample.com/dongle',
      message: "Node didn't have enough resource: example.com/dongle, requested: 2, used: 1, capacity: 2",
    });
    expect(
      fit.admit({
        pod: pod('b', { 'example.com/dongle': '1' }),
        otherPods: [pod('a', { 'example.com/dongle': '1' })],
      }),
    ).toEqual({ admit: true });
  });

  it('ignores an extended resource the Node does not list (a cluster-level resource), as upstream', () => {
    const fit = resourceFitAdmitHandler(() => node);
    expect(fit.admit({ pod: pod('c', { 'example.com/elsewhere': '5' }), otherPods: [] })).toEqual({
      admit: true,
    });
  });

  it("counts a device plugin resource's allocatable at least at what its devices already give out", () => {
    // The plugin went away: the Node says 0, but the running pod holds one device (kubelet restart).
    const fit = resourceFitAdmitHandler(
      () => ({ ...node, 'example.com/resource': '0' }),
      () => false,
      { allocatedCounts: () => ({ 'example.com/resource': 1 }) },
    );
    expect(fit.admit({ pod: pod('held', { 'example.com/resource': '1' }), otherPods: [] })).toEqual({
      admit: true,
    });
    expect(fit.admit({ pod: pod('more', { 'example.com/resource': '2' }), otherPods: [] })).toMatchObject({
      admit: false,
      reason: 'OutOfexample.com/resource',
    });
  });

  it('names extended resources as apimachinery does', () => {
    expect(isExtendedResourceName('example.com/resource')).toBe(true);
    expect(isExtendedResourceName('nvidia.com/gpu')).toBe(true);
    expect(isExtendedResourceName('cpu')).toBe(false);
    expect(isExtendedResourceName('kubernetes.io/something')).toBe(false);
    expect(isExtendedResourceName('hugepages-2Mi')).toBe(false);
    expect(isExtendedResourceName('requests.example.com/x')).toBe(false);
    expect(isExtendedResourceName(`example.com/${'a'.repeat(64)}`)).toBe(false);
  });
});
