import { describe, expect, it } from 'vitest';
import type { Container } from '../src/api/pod-types';
import { containerResourceValues } from '../src/api/resize-quantities';
import { computeContainerResizeAction, orderUpdates } from '../src/pod/compute-resize-action';

const burstable: Container = {
  name: 'c',
  resizePolicy: [
    { resourceName: 'cpu', restartPolicy: 'NotRequired' },
    { resourceName: 'memory', restartPolicy: 'RestartContainer' },
  ],
} as Container;

const values = (requests: Record<string, string>, limits: Record<string, string>) =>
  containerResourceValues({ requests, limits });

describe('computeContainerResizeAction (upstream computePodResizeAction)', () => {
  it('keeps a container whose applied resources are the allocated ones', () => {
    const v = values({ cpu: '100m', memory: '32Mi' }, { cpu: '200m', memory: '64Mi' });
    expect(computeContainerResizeAction(burstable, v, v)).toEqual({ kind: 'keep' });
  });

  it('updates CPU in place under NotRequired, by the limit direction', () => {
    expect(
      computeContainerResizeAction(
        burstable,
        values({ cpu: '200m', memory: '32Mi' }, { cpu: '400m', memory: '64Mi' }),
        values({ cpu: '100m', memory: '32Mi' }, { cpu: '200m', memory: '64Mi' }),
      ),
    ).toEqual({ kind: 'update', resources: [{ resource: 'cpu', increase: true }] });
  });

  it('restarts for a memory limit change under RestartContainer, with upstream message', () => {
    expect(
      computeContainerResizeAction(
        burstable,
        values({ cpu: '50m', memory: '48Mi' }, { cpu: '100m', memory: '128Mi' }),
        values({ cpu: '50m', memory: '32Mi' }, { cpu: '100m', memory: '64Mi' }),
      ),
    ).toEqual({ kind: 'restart', message: 'Container c resize requires restart' });
  });

  it('takes a memory request change alone as applied (no cgroup holds it)', () => {
    expect(
      computeContainerResizeAction(
        burstable,
        values({ cpu: '50m', memory: '48Mi' }, { cpu: '100m', memory: '64Mi' }),
        values({ cpu: '50m', memory: '32Mi' }, { cpu: '100m', memory: '64Mi' }),
      ),
    ).toEqual({ kind: 'keep' });
  });

  it('treats requests at or below the minimum shares and limits at or below 10m as equal', () => {
    expect(
      computeContainerResizeAction(
        burstable,
        values({ cpu: '1m' }, { cpu: '5m' }),
        values({ cpu: '2m' }, { cpu: '10m' }),
      ),
    ).toEqual({
      kind: 'keep',
    });
  });

  it('orders shrinking updates before growing ones', () => {
    const ordered = orderUpdates([
      { name: 'a', increase: true },
      { name: 'b', increase: false },
      { name: 'c', increase: true },
      { name: 'd', increase: false },
    ]);
    expect(ordered.map((u) => u.name)).toEqual(['b', 'd', 'a', 'c']);
  });
});
