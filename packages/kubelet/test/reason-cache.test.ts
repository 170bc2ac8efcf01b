import { describe, expect, it } from 'vitest';
import type { ContainerStatus, PodStatus } from '../src/api/pod-types';
import { ReasonCache, reportedWaitingReasons, withRecordedBackOffs } from '../src/sync/reason-cache';

const backOff = (d: string) => ({
  reason: 'CrashLoopBackOff',
  message: `back-off ${d} restarting failed container=c`,
});

describe('ReasonCache: CrashLoopBackOff as upstream v1.36 reports it (one sync late)', () => {
  it('a back-off met for the first time is not reported; a later sync that finds it recorded reports it', () => {
    const cache = new ReasonCache();
    const containers = ['c'];
    // The sync the exit triggered meets the back-off: the status keeps the exit (terminated).
    const first = new Map([['c', backOff('10s')]]);
    expect(reportedWaitingReasons(first, (n) => cache.get('u', n), new Set(), containers)).toEqual(new Map());
    cache.update('u', first, []);
    // Another sync while it lasts (a spec change, another container's event): waiting CrashLoopBackOff.
    const second = new Map([['c', backOff('10s')]]);
    expect(reportedWaitingReasons(second, (n) => cache.get('u', n), new Set(), containers)).toEqual(
      new Map([['c', backOff('10s')]]),
    );
    cache.update('u', second, []);
    // The sync that restarts it: nothing waiting, and the record is gone.
    const started = new Set(['c']);
    expect(reportedWaitingReasons(new Map(), (n) => cache.get('u', n), started, containers)).toEqual(
      new Map(),
    );
    cache.update('u', new Map(), started);
    expect(cache.get('u', 'c')).toBeUndefined();
    // The next exit starts the sequence again.
    expect(
      reportedWaitingReasons(
        new Map([['c', backOff('20s')]]),
        (n) => cache.get('u', n),
        new Set(),
        containers,
      ),
    ).toEqual(new Map());
  });

  it('other waiting reasons are reported by the sync that hit them, and replace a recorded back-off', () => {
    const cache = new ReasonCache();
    cache.update('u', new Map([['c', backOff('10s')]]), []);
    const pull = new Map([['c', { reason: 'ErrImagePull', message: 'not found' }]]);
    expect(reportedWaitingReasons(pull, (n) => cache.get('u', n), new Set(), ['c'])).toEqual(pull);
    cache.update('u', pull, []);
    expect(cache.get('u', 'c')).toBeUndefined();
  });

  it('keeps containers apart and forgets a pod', () => {
    const cache = new ReasonCache();
    cache.update('u', new Map([['a', backOff('10s')]]), []);
    cache.update('v', new Map([['a', backOff('40s')]]), []);
    // A sync that did not try `a` (it returned early) keeps its record.
    cache.update('u', new Map(), ['b']);
    expect(cache.get('u', 'a')).toEqual(backOff('10s'));
    cache.forget('u');
    expect(cache.get('u', 'a')).toBeUndefined();
    expect(cache.get('v', 'a')).toEqual(backOff('40s'));
  });
});

describe('withRecordedBackOffs: the status upstream writes before acting', () => {
  const exited: ContainerStatus = {
    name: 'c',
    state: { terminated: { exitCode: 3, reason: 'Error', containerID: 'containerd://new' } },
    lastState: { terminated: { exitCode: 3, reason: 'Error', containerID: 'containerd://old' } },
    ready: false,
    restartCount: 2,
    image: 'busybox',
    imageID: '',
  };
  const running: ContainerStatus = { ...exited, name: 'side', state: { running: { startedAt: 't' } } };
  const status: PodStatus = { phase: 'Running', containerStatuses: [exited, running] };

  it('turns a terminated container with a recorded back-off into waiting, its exit the last state', () => {
    const cache = new ReasonCache();
    cache.update('u', new Map([['c', backOff('20s')]]), []);
    const next = withRecordedBackOffs(status, (n) => cache.get('u', n))!;
    expect(next.containerStatuses![0]).toEqual({
      ...exited,
      state: { waiting: backOff('20s') },
      lastState: { terminated: exited.state.terminated },
    });
    expect(next.containerStatuses![1]).toBe(running);
    expect(next.phase).toBe('Running');
  });

  it('changes nothing without a recorded back-off, or for a container not terminated', () => {
    expect(withRecordedBackOffs(status, () => undefined)).toBeUndefined();
    expect(withRecordedBackOffs(status, (n) => (n === 'side' ? backOff('10s') : undefined))).toBeUndefined();
  });
});
