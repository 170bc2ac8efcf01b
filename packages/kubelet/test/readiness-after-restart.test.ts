import { KUBELET_RESTART_GRACE_MS } from '@nodeagent/probes';
import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import type { PodRuntimeStatus } from '../src/cri/runtime-state';
import {
  type LastKnownContainer,
  lastKnownContainer,
  readyAcrossRestart,
  startedAcrossRestart,
} from '../src/probes/readiness-after-restart';
import { makePod } from './helpers/fixtures';

const proberStart = Date.UTC(2026, 0, 1, 12);
const before = proberStart - KUBELET_RESTART_GRACE_MS - 1;
const last = (overrides: Partial<LastKnownContainer> = {}): LastKnownContainer => ({
  startedAtMs: before,
  podWasReady: true,
  ...overrides,
});

describe('readiness across a kubelet restart (KEP-4781, upstream v1.35+)', () => {
  it('keeps a container running since before the restart ready until its first probe, if the pod was Ready', () => {
    expect(readyAcrossRestart(undefined, true, last(), proberStart)).toBe(true);
    // The pod was not Ready: the container waits for its probe like a new one.
    expect(readyAcrossRestart(undefined, true, last({ podWasReady: false }), proberStart)).toBe(false);
    // Started within the grace before the prober: counts as started after the restart.
    expect(
      readyAcrossRestart(
        undefined,
        true,
        last({ startedAtMs: proberStart - KUBELET_RESTART_GRACE_MS }),
        proberStart,
      ),
    ).toBe(false);
    // Nothing known of it (a new pod): not ready before its probe.
    expect(readyAcrossRestart(undefined, true, undefined, proberStart)).toBe(false);
  });

  it('lets a probe result decide once there is one', () => {
    expect(readyAcrossRestart('Failure', true, last(), proberStart)).toBe(false);
    expect(readyAcrossRestart('Success', true, last({ podWasReady: false }), proberStart)).toBe(true);
    expect(readyAcrossRestart(undefined, false, undefined, proberStart)).toBe(true);
  });

  it('keeps started from the last status of the same instance while the startup probe has no result', () => {
    expect(
      startedAcrossRestart(undefined, true, last({ apiStatus: { name: 'c', started: true } as never })),
    ).toBe(true);
    expect(startedAcrossRestart(undefined, true, last())).toBe(false);
    expect(
      startedAcrossRestart('Unknown', true, last({ apiStatus: { name: 'c', started: true } as never })),
    ).toBe(false);
    expect(startedAcrossRestart('Success', true, undefined)).toBe(true);
    expect(startedAcrossRestart(undefined, false, undefined)).toBe(true);
  });

  it('reads the instance, its last API status and the Ready condition from the pod', () => {
    const pod: Pod = {
      ...makePod(),
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'app',
            containerID: 'containerd://c-1',
            started: true,
            ready: true,
            restartCount: 0,
          } as never,
        ],
      },
    };
    const runtime = {
      uid: 'uid-1',
      name: 'web',
      namespace: 'default',
      sandboxes: [],
      containers: [
        { id: 'c-1', name: 'app', state: 'running', createdAt: before - 5, startedAt: before },
        { id: 'c-0', name: 'app', state: 'exited', createdAt: before - 100 },
      ],
    } as unknown as PodRuntimeStatus;
    expect(lastKnownContainer(pod, runtime, 'c-1')).toEqual({
      startedAtMs: before,
      apiStatus: pod.status?.containerStatuses?.[0],
      podWasReady: true,
    });
    expect(lastKnownContainer(pod, runtime, 'c-0')).toBeUndefined();
    expect(lastKnownContainer({ ...pod, status: {} }, runtime, 'c-1')).toEqual({
      startedAtMs: before,
      apiStatus: undefined,
      podWasReady: false,
    });
  });
});
