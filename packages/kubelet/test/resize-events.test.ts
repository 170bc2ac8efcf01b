import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { resizePendingMessage, resizeStartedMessage } from '../src/events/resize-events';

const burstable: Pod = {
  metadata: { uid: 'u', name: 'rs-burstable', namespace: 'rs', generation: 6 },
  spec: {
    containers: [
      {
        name: 'c',
        resources: { requests: { cpu: '1900m', memory: '32Mi' }, limits: { memory: '48Mi', cpu: '2000m' } },
      },
    ],
  },
};

describe('resize event messages (upstream podResizeMessage)', () => {
  it('ResizeStarted: containers with limits before requests, canonical quantities, the generation', () => {
    expect(resizeStartedMessage(burstable, 6)).toBe(
      'Pod resize started: {"containers":[{"name":"c","resources":{"limits":{"cpu":"2","memory":"48Mi"},"requests":{"cpu":"1900m","memory":"32Mi"}}}],"generation":6}',
    );
  });

  it('ResizeDeferred names the admit reason and carries the error, exactly as resize-v1.36 recorded it', () => {
    expect(
      resizePendingMessage(
        burstable,
        6,
        'OutOfcpu',
        "Node didn't have enough resource: cpu, requested: 1900, used: 150, capacity: 2000",
      ),
    ).toBe(
      'Pod resize OutOfcpu: {"containers":[{"name":"c","resources":{"limits":{"cpu":"2","memory":"48Mi"},"requests":{"cpu":"1900m","memory":"32Mi"}}}],"generation":6,"error":"Node didn\'t have enough resource: cpu, requested: 1900, used: 150, capacity: 2000"}',
    );
  });

  it('lists init containers first when the pod has them', () => {
    const pod: Pod = {
      metadata: {},
      spec: {
        initContainers: [{ name: 'i' }],
        containers: [{ name: 'c', resources: { requests: { cpu: '0.5' } } }],
      },
    };
    expect(resizeStartedMessage(pod, 2)).toBe(
      'Pod resize started: {"initContainers":[{"name":"i","resources":{}}],"containers":[{"name":"c","resources":{"requests":{"cpu":"500m"}}}],"generation":2}',
    );
  });
});
