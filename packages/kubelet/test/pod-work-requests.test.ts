import { describe, expect, it } from 'vitest';
import type { PodStatus } from '../src/api/pod-types';
import { MirrorPods } from '../src/pod/mirror-pods';
import { PodStateStore } from '../src/sync/pod-state-store';
import { PodWorkRequests, type RequestedWorkers } from '../src/sync/pod-work-requests';
import type { PodUpdate, PodWorkerPhase } from '../src/workers/pod-workers';
import { makePod } from './helpers/fixtures';

/** Workers that record what they are asked; each pod's phase and scheduled retry as a test sets them. */
function recordingWorkers() {
  const updates: string[] = [];
  const phases = new Map<string, PodWorkerPhase>();
  const retries = new Set<string>();
  const workers: RequestedWorkers = {
    updatePod: (update: PodUpdate) =>
      updates.push(`${update.updateType} ${update.pod.metadata.uid}${update.gracePeriodSeconds ?? ''}`),
    hasScheduledRetry: (uid) => retries.has(uid),
    phase: (uid) => phases.get(uid),
    isTerminated: (uid) => phases.get(uid) === 'terminated',
  };
  return { workers, updates, phases, retries };
}

function requestsOver(statuses: Record<string, PodStatus> = {}) {
  const pods = new PodStateStore(new MirrorPods());
  let recounts = 0;
  const requests = new PodWorkRequests(
    pods,
    { getPodStatus: (uid) => statuses[uid] },
    { recountRunning: () => void recounts++ },
  );
  const recorded = recordingWorkers();
  requests.attach(recorded.workers);
  return { pods, requests, ...recorded, recounts: () => recounts };
}

describe('PodWorkRequests: what the PLEG, prober, resizer, eviction and resync ask of the pod workers', () => {
  it('syncs a known pod on a PLEG event, not on ContainerRemoved nor an unknown pod; recounts every time', () => {
    const { pods, requests, updates, recounts } = requestsOver();
    pods.set(makePod({}, { uid: 'a' }), 0);
    requests.handlePlegEvent({ podUid: 'a', type: 'ContainerDied', containerId: 'c1' });
    requests.handlePlegEvent({ podUid: 'a', type: 'ContainerRemoved', containerId: 'c1' });
    requests.handlePlegEvent({ podUid: 'gone', type: 'ContainerStarted', containerId: 'c2' });
    expect(updates).toEqual(['sync a']);
    expect(recounts()).toBe(3);
  });

  it('resyncs every pod but one with a sync already scheduled', () => {
    const { pods, requests, updates, retries } = requestsOver();
    for (const uid of ['a', 'b', 'c']) pods.set(makePod({}, { uid, name: uid }), 0);
    retries.add('b');
    requests.resyncAll();
    expect(updates).toEqual(['sync a', 'sync c']);
  });

  it('counts as active only syncing, admitted pods whose last status is not terminal', () => {
    const { pods, requests, phases } = requestsOver({ done: { phase: 'Succeeded' } });
    for (const uid of ['run', 'refused', 'stopping', 'done']) {
      pods.set(makePod({}, { uid, name: uid }), 0);
      phases.set(uid, uid === 'stopping' ? 'terminating' : 'syncing');
    }
    pods.reject('refused', { reason: 'OutOfcpu', message: 'no cpu' });
    expect(requests.activePods().map((pod) => pod.metadata.uid)).toEqual(['run']);
    phases.set('stopping', 'terminated');
    expect([requests.isKnown('stopping'), requests.isKnown('gone')]).toEqual([true, false]);
  });

  it('lets the container GC remove all of a pod only once it is gone, or terminated and deleted or evicted', () => {
    const { pods, requests, phases } = requestsOver({ done: { phase: 'Succeeded' } });
    for (const uid of ['run', 'done', 'deleted', 'evicted'])
      pods.set(
        makePod(
          {},
          { uid, name: uid, ...(uid === 'deleted' ? { deletionTimestamp: '2026-11-29T10:00:00Z' } : {}) },
        ),
        0,
      );
    pods.evict('evicted', { reason: 'Evicted', message: 'low memory' });
    phases.set('run', 'syncing');
    phases.set('deleted', 'terminating');
    for (const uid of ['done', 'evicted']) phases.set(uid, 'terminated');
    const removable = () =>
      ['run', 'done', 'deleted', 'evicted', 'gone'].map((uid) => requests.contentRemovable(uid));
    // A finished pod keeps its last containers (their logs); one being deleted too, until terminated.
    expect(removable()).toEqual([false, false, false, true, true]);
    phases.set('deleted', 'terminated');
    expect(removable()).toEqual([false, false, true, true, true]);
  });

  it('evicts a syncing pod with the eviction grace period and records why; other pods are left alone', () => {
    const { pods, requests, updates, phases } = requestsOver();
    const pod = makePod({}, { uid: 'a' });
    pods.set(pod, 0);
    phases.set('a', 'syncing');
    const reason = { reason: 'Evicted', message: 'low memory' };
    expect(requests.evict(pod, 0, reason)).toBe(true);
    expect(pods.eviction('a')).toEqual(reason);
    phases.set('a', 'terminating');
    expect(requests.evict(pod, 0, reason)).toBe(false);
    expect(requests.evict(makePod({}, { uid: 'gone' }), 0, reason)).toBe(false);
    expect(updates).toEqual(['kill a0']);
  });

  it('refuses a request before the workers are attached', () => {
    const pods = new PodStateStore(new MirrorPods());
    pods.set(makePod({}, { uid: 'a' }), 0);
    const requests = new PodWorkRequests(pods, { getPodStatus: () => undefined }, { recountRunning() {} });
    expect(() => requests.resync('a')).toThrow(/no pod workers attached/);
  });
});
