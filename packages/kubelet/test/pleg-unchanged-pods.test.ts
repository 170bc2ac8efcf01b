import { FakeClock } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import type { PodRuntime } from '../src/cri/pod-runtime';
import type { PodRuntimeStatus, RuntimeContainerStatus } from '../src/cri/runtime-state';
import { GenericPLEG, type PodLifecycleEvent } from '../src/pleg/generic-pleg';
import { PodCache } from '../src/pleg/pod-cache';

const sandbox = { id: 'sb', attempt: 0, ready: true, createdAt: 1, ips: ['10.0.0.5'], hostNetwork: false };
const container = (state: RuntimeContainerStatus['state']): RuntimeContainerStatus => ({
  id: 'c1',
  name: 'app',
  state,
  restartCount: 0,
  hash: 'h',
  createdAt: 2,
  image: 'busybox',
  imageRef: 'sha256:x',
});

/**
 * The relist fast path: a pod listed with the very sandbox and container objects of the last
 * relist is not compared state by state (criPodRuntime hands back unchanged objects).
 */
describe('PLEG relist of pods listed with unchanged objects', () => {
  function setup() {
    let listed: PodRuntimeStatus[] = [];
    let single: PodRuntimeStatus | undefined;
    const runtime = {
      listPods: async () => listed,
      podStatus: async () => single,
    } as unknown as PodRuntime;
    const events: PodLifecycleEvent[] = [];
    const cache = new PodCache();
    const pleg = new GenericPLEG({ runtime, cache, clock: new FakeClock(), onEvent: (e) => events.push(e) });
    const pod = (c: RuntimeContainerStatus): PodRuntimeStatus => ({
      uid: 'u1',
      name: 'web',
      namespace: 'default',
      sandboxes: [sandbox],
      containers: [c],
    });
    return {
      pleg,
      cache,
      events,
      list: (c: RuntimeContainerStatus) => {
        listed = [pod(c)];
      },
      refreshWith: (c: RuntimeContainerStatus) => {
        single = pod(c);
      },
    };
  }

  it('raises no event for the same objects, and the events for a changed one', async () => {
    const t = setup();
    const running = container('running');
    t.list(running);
    await t.pleg.relist();
    expect(t.events.map((e) => e.type)).toEqual(['ContainerStarted', 'ContainerStarted']);
    t.events.length = 0;
    // A new PodRuntimeStatus, the same sandbox and container objects: nothing changed.
    t.list(running);
    await t.pleg.relist();
    expect(t.events).toEqual([]);
    expect(t.cache.get('u1')?.status.containers[0]).toBe(running);
    t.list(container('exited'));
    await t.pleg.relist();
    expect(t.events).toEqual([{ podUid: 'u1', type: 'ContainerDied', containerId: 'c1' }]);
  });

  it("still raises the events for what a pod's own refresh saw since the last relist", async () => {
    const t = setup();
    t.list(container('created'));
    await t.pleg.relist();
    t.events.length = 0;
    // The pod's sync started the container and read it back: the relist then lists that object.
    const running = container('running');
    t.refreshWith(running);
    await t.pleg.refreshPod('u1');
    t.list(running);
    await t.pleg.relist();
    expect(t.events).toEqual([{ podUid: 'u1', type: 'ContainerStarted', containerId: 'c1' }]);
  });

  it('forgets a pod the kubelet is done with, and reports a gone pod once', async () => {
    const t = setup();
    const running = container('running');
    t.list(running);
    await t.pleg.relist();
    t.events.length = 0;
    t.pleg.forgetPod('u1');
    t.list(running);
    await t.pleg.relist();
    // Forgotten: the same objects are new to the PLEG again.
    expect(t.events.map((e) => e.type)).toEqual(['ContainerStarted', 'ContainerStarted']);
  });
});
