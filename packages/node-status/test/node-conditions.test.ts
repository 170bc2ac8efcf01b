import { describe, expect, it } from 'vitest';
import { evaluateReadyChecks } from '../src/index';
import { CONDITION_ORDER, nextConditions } from '../src/node-object/index';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('nextConditions', () => {
  it('creates the four kubelet conditions with upstream reasons', () => {
    const c = nextConditions(undefined, { ready: true }, t(0));
    expect(c.map((x) => x.type)).toEqual([...CONDITION_ORDER]);
    expect(c.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
      lastTransitionTime: t(0),
      lastHeartbeatTime: t(0),
    });
    expect(c.find((x) => x.type === 'MemoryPressure')).toMatchObject({
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
    });
    expect(c.find((x) => x.type === 'DiskPressure')?.reason).toBe('KubeletHasNoDiskPressure');
    expect(c.find((x) => x.type === 'PIDPressure')?.reason).toBe('KubeletHasSufficientPID');
  });

  it('moves lastTransitionTime only when the status flips, heartbeat always', () => {
    const a = nextConditions(undefined, { ready: true }, t(0));
    const b = nextConditions(a, { ready: true }, t(10));
    const ready = (l: typeof a) => l.find((x) => x.type === 'Ready')!;
    expect(ready(b).lastTransitionTime).toEqual(t(0));
    expect(ready(b).lastHeartbeatTime).toEqual(t(10));
    const c = nextConditions(b, { ready: false, notReadyErrors: ['container runtime is down'] }, t(20));
    expect(ready(c)).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime is down',
      lastTransitionTime: t(20),
    });
    const d = nextConditions(c, { ready: false, notReadyErrors: ['a', 'b'], memoryPressure: true }, t(30));
    expect(ready(d).message).toBe('[a, b]');
    expect(ready(d).lastTransitionTime).toEqual(t(20));
    const mem = d.find((x) => x.type === 'MemoryPressure')!;
    expect(mem).toMatchObject({
      status: 'True',
      reason: 'KubeletHasInsufficientMemory',
      lastTransitionTime: t(30),
    });
    expect(d.find((x) => x.type === 'DiskPressure')!.lastTransitionTime).toEqual(t(0));
  });

  it('keeps conditions owned by other components and accepts string times from the API', () => {
    const prev = [
      { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' },
      { type: 'Ready', status: 'True', lastTransitionTime: '2025-12-31T00:00:00Z' as unknown as Date },
    ];
    const next = nextConditions(prev, { ready: true }, t(5));
    expect(next[0]).toEqual(prev[0]);
    expect(next.find((x) => x.type === 'Ready')!.lastTransitionTime).toEqual(
      new Date('2025-12-31T00:00:00Z'),
    );
  });
});

describe('evaluateReadyChecks', () => {
  it('is ready when every check passes', async () => {
    expect(
      await evaluateReadyChecks([
        { name: 'runtime', check: async () => undefined },
        { name: 'pleg', check: () => '' },
      ]),
    ).toEqual({ ready: true, errors: [] });
  });

  it('collects failures, throws and hangs in check order', async () => {
    const verdict = await evaluateReadyChecks(
      [
        { name: 'runtime', check: async () => 'container runtime is down' },
        {
          name: 'pleg',
          check: async () => {
            throw new Error('PLEG is not healthy');
          },
        },
        { name: 'network', check: () => new Promise(() => {}) },
        { name: 'ok', check: () => null },
      ],
      50,
    );
    expect(verdict).toEqual({
      ready: false,
      errors: [
        'container runtime is down',
        'pleg: PLEG is not healthy',
        'network: check timed out after 50ms',
      ],
    });
  });
});
