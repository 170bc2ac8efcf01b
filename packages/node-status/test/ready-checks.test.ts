import { describe, expect, it } from 'vitest';
import { evaluateReadyChecks, networkReadyCheck, plegHealthCheck, runtimeReachableCheck } from '../src/index';

describe('kubelet Ready checks', () => {
  it('reports an unreachable runtime', async () => {
    const ok = runtimeReachableCheck(async () => ({ version: '1.7' }));
    const down = runtimeReachableCheck(async () => {
      throw new Error('connect ENOENT /run/containerd/containerd.sock');
    });
    expect(await evaluateReadyChecks([ok])).toEqual({ ready: true, errors: [] });
    expect(await evaluateReadyChecks([down])).toEqual({
      ready: false,
      errors: ['container runtime is down: connect ENOENT /run/containerd/containerd.sock'],
    });
  });

  it('reports PLEG unhealthy past the 3-minute threshold, in Go duration text', async () => {
    let now = 1_000_000;
    let last: number | undefined;
    const check = plegHealthCheck(() => last, { now: () => now });
    expect(await check.check()).toBe('PLEG is not healthy: pleg has yet to be successful');
    last = now;
    now += 180_000;
    expect(await check.check()).toBeUndefined();
    now += 5_500;
    expect(await check.check()).toBe(
      'PLEG is not healthy: pleg was last seen active 3m5.5s ago; threshold is 3m0s',
    );
  });

  it('reports the runtime network condition', async () => {
    const check = networkReadyCheck(async () => ({
      ready: false,
      reason: 'NetworkPluginNotReady',
      message: 'Network plugin returns error: cni plugin not initialized',
    }));
    expect(await check.check()).toBe(
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    );
    expect(await networkReadyCheck(async () => ({ ready: true })).check()).toBeUndefined();
  });
});
