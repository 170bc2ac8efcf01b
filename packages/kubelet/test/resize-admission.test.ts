import { describe, expect, it } from 'vitest';
import {
  noPodCgroupResizeMessage,
  pinnedCpuResizeMessage,
  pinnedMemoryResizeMessage,
  resizeRefusal,
  staticPodResizeMessage,
} from '../src/admission/resize-admission';
import { podRequests } from '../src/api/pod-requests';
import type { Pod } from '../src/api/pod-types';

function pod(uid: string, requests: Record<string, string>, limits: Record<string, string> = requests): Pod {
  return {
    metadata: { uid, name: uid, namespace: 'rs' },
    spec: { containers: [{ name: 'c', resources: { requests, limits } }] },
  };
}

const allocatable = { cpu: '2', memory: '24683072Ki' };

describe('resizeRefusal (upstream handlePodResourcesResize checks)', () => {
  it('refuses a Guaranteed pod beside a static CPU or memory manager, and lets a Burstable one through', () => {
    const input = (desired: Pod, pinning: { cpu: boolean; memory: boolean }) =>
      resizeRefusal({ desired, others: [], allocatable, staticPod: false, podCgroups: true, pinning });
    const guaranteed = pod('g', { cpu: '1', memory: '64Mi' });
    expect(input(guaranteed, { cpu: true, memory: true })).toEqual({
      conditionReason: 'Infeasible',
      reason: 'Infeasible',
      message: pinnedCpuResizeMessage,
    });
    expect(input(guaranteed, { cpu: false, memory: true })?.message).toBe(
      'Resize is infeasible for Guaranteed Pods alongside Memory Manager static policy',
    );
    expect(pinnedMemoryResizeMessage).toBe(
      'Resize is infeasible for Guaranteed Pods alongside Memory Manager static policy',
    );
    expect(input(guaranteed, { cpu: false, memory: false })).toBeUndefined();
    expect(input(pod('b', { cpu: '500m' }, { cpu: '1' }), { cpu: true, memory: true })).toBeUndefined();
  });

  it('fits when the others leave room', () => {
    const refusal = resizeRefusal({
      desired: pod('b', { cpu: '1900m', memory: '32Mi' }),
      others: [pod('g', { cpu: '100m', memory: '48Mi' })],
      allocatable,
      staticPod: false,
      podCgroups: true,
    });
    expect(refusal).toBeUndefined();
  });

  it('defers with the predicate handler reason and message when the others use the room (resize-v1.36 deferred-cpu)', () => {
    const refusal = resizeRefusal({
      desired: pod('b', { cpu: '1900m', memory: '32Mi' }),
      others: [pod('g', { cpu: '150m', memory: '48Mi' }), pod('b', { cpu: '50m' })],
      allocatable,
      staticPod: false,
      podCgroups: true,
    });
    expect(refusal).toEqual({
      conditionReason: 'Deferred',
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 1900, used: 150, capacity: 2000",
    });
  });

  it('is infeasible beyond the node allocatable, memory named first', () => {
    expect(
      resizeRefusal({
        desired: pod('g', { cpu: '3' }),
        others: [],
        allocatable,
        staticPod: false,
        podCgroups: true,
      }),
    ).toEqual({
      conditionReason: 'Infeasible',
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 3000, capacity: 2000",
    });
    expect(
      resizeRefusal({
        desired: pod('g', { cpu: '3', memory: '30Gi' }),
        others: [],
        allocatable,
        staticPod: false,
        podCgroups: true,
      })?.message,
    ).toBe("Node didn't have enough capacity: memory, requested: 32212254720, capacity: 25275465728");
  });

  it('refuses static pods and pods without a pod cgroup (cgroupsPerQOS: false) as infeasible', () => {
    const base = { desired: pod('s', { cpu: '1' }), others: [], allocatable };
    expect(resizeRefusal({ ...base, staticPod: true, podCgroups: true })?.message).toBe(
      staticPodResizeMessage,
    );
    expect(resizeRefusal({ ...base, staticPod: false, podCgroups: false })).toEqual({
      conditionReason: 'Infeasible',
      reason: 'Infeasible',
      message: noPodCgroupResizeMessage,
    });
  });

  it('podRequests: sidecars add up, a regular init container counts alone beside earlier sidecars', () => {
    const p: Pod = {
      metadata: { uid: 'x' },
      spec: {
        initContainers: [
          { name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
          { name: 'i', resources: { requests: { cpu: '900m', memory: '1Mi' } } },
        ],
        containers: [{ name: 'c', resources: { requests: { cpu: '200m', memory: '2Mi' } } }],
        overhead: { cpu: '10m' },
      },
    };
    expect(podRequests(p)).toEqual({ cpuMilli: 1010, memoryBytes: 2 * 1024 * 1024 });
  });
});
