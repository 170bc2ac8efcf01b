import { describe, expect, it } from 'vitest';
import { resourceFitAdmitHandler } from '../src/admission/resource-fit-admit';
import type { Pod } from '../src/api/pod-types';

function pod(name: string, requests: Record<string, string>): Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests } }] },
  } as Pod;
}

describe('ephemeral-storage in the resource fit (upstream generalFilter via the predicate admit handler)', () => {
  it("refuses a pod needing more ephemeral-storage than is left with OutOfephemeral-storage and upstream's text", () => {
    const fit = resourceFitAdmitHandler(() => ({ cpu: '2', memory: '4Gi', 'ephemeral-storage': '10Gi' }));
    const running = [pod('a', { 'ephemeral-storage': '6Gi' })];
    expect(fit.admit({ pod: pod('b', { 'ephemeral-storage': '5Gi' }), otherPods: running })).toEqual({
      admit: false,
      reason: 'OutOfephemeral-storage',
      message: `Node didn't have enough resource: ephemeral-storage, requested: ${5 * 2 ** 30}, used: ${6 * 2 ** 30}, capacity: ${10 * 2 ** 30}`,
    });
    expect(fit.admit({ pod: pod('c', { 'ephemeral-storage': '4Gi' }), otherPods: running })).toEqual({
      admit: true,
    });
  });

  it('reads an allocatable without ephemeral-storage (localStorageCapacityIsolation false) as 0, as upstream', () => {
    const fit = resourceFitAdmitHandler(() => ({ cpu: '2', memory: '4Gi', pods: '110' }));
    expect(fit.admit({ pod: pod('asks', { 'ephemeral-storage': '1Mi' }), otherPods: [] })).toEqual({
      admit: false,
      reason: 'OutOfephemeral-storage',
      message: `Node didn't have enough resource: ephemeral-storage, requested: ${2 ** 20}, used: 0, capacity: 0`,
    });
    // A pod that asks for none is not checked.
    expect(fit.admit({ pod: pod('none', { memory: '1Gi' }), otherPods: [] })).toEqual({ admit: true });
  });
});
