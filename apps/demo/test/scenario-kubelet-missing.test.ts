import { describe, expect, it } from 'vitest';
import { kubeletMissing } from '../src/scenarios/kubelet-missing';
import { narrate } from '../src/scenarios/narration';
import { runScenario } from '../src/scenarios/run-scenario';
import type { ScenarioEvent } from '../src/scenarios/scenario-events';
import { World, type WorldSettings } from './scenario-world';

function world(overrides: Partial<WorldSettings> = {}): World {
  const w = new World(['node-1', 'node-2', 'node-3'], {
    gracePeriodMs: 5000,
    tolerationMs: 3000,
    leaseRenewMs: 1000,
    ...overrides,
  });
  w.pod('web-a', 'node-1', undefined, 'web');
  w.pod('web-b', 'node-1', undefined, 'web');
  w.pod('web-c', 'node-2', undefined, 'web');
  w.pod('web-d', 'node-3', undefined, 'web');
  w.step();
  return w;
}

async function collect(w: World): Promise<ScenarioEvent[]> {
  const events: ScenarioEvent[] = [];
  for await (const e of kubeletMissing({
    box: w.box(),
    workloadSelector: { key: 'app', value: 'web' },
    leaseRenewIntervalMs: 1000,
    waitTimeoutMs: 60_000,
    pollMs: 250,
    clock: w.clock,
  })) {
    events.push(e);
  }
  return events;
}

describe('kubelet-missing observer (scripted cluster)', () => {
  it('yields every effect in order, each timed from the stop, then the recovery', async () => {
    const events = await collect(world());
    expect(events.map((e) => e.type)).toEqual([
      'workload-placed',
      'kubelet-stopped',
      'container-killed',
      'container-exited',
      'lease-not-renewed',
      'node-not-ready',
      'taints-added',
      'pods-still-running',
      'new-pod-elsewhere',
      'pod-deleted',
      'deleted-pod-still-running',
      'pods-evicted',
      'pods-recreated',
      'container-not-restarted',
      'kubelet-started',
      'node-ready',
      'taints-removed',
      'deleted-pod-stopped',
      'no-duplicates',
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: each event type read by its own fields
    const byType = Object.fromEntries(events.map((e) => [e.type, e])) as Record<string, any>;
    expect(byType['workload-placed']).toMatchObject({ node: 'node-1', pods: ['web-a', 'web-b'] });
    expect(byType['kubelet-stopped'].atMs).toBe(0);
    // The node goes Unknown only once the grace period (5 s) has passed since the last renewal.
    expect(byType['node-not-ready']).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(byType['node-not-ready'].atMs).toBeGreaterThan(5000 + byType['lease-not-renewed'].lastRenewAtMs);
    expect(byType['taints-added'].taints).toEqual([
      'node.kubernetes.io/unreachable:NoSchedule',
      'node.kubernetes.io/unreachable:NoExecute',
    ]);
    expect(byType['pods-still-running'].pods).toEqual(['default/scenario-deleted-later', 'default/web-b']);
    expect(byType['new-pod-elsewhere'].node).not.toBe('node-1');
    expect(byType['deleted-pod-still-running'].containers).toEqual(['httpd']);
    expect(byType['pods-evicted'].atMs - byType['taints-added'].atMs).toBeGreaterThanOrEqual(3000 - 250);
    expect(byType['pods-recreated'].pods).toHaveLength(2);
    for (const p of byType['pods-recreated'].pods) expect(p.node).not.toBe('node-1');
    expect(byType['container-not-restarted'].exitedForMs).toBeGreaterThan(8000);
    expect(byType['deleted-pod-stopped'].pods).toEqual(['scenario-deleted-later', 'web-a', 'web-b']);
    expect(events.some((e) => e.type === 'problem')).toBe(false);
    // The starting point prints "before"; every other event its time since the stop.
    expect(narrate(byType['workload-placed'])).toBe('  before  workload Running; node-1 runs web-a, web-b');
    // Every event prints one line starting with its time since the stop.
    expect(narrate(byType['node-not-ready'])).toMatch(
      /^ +\+\d+\.\ds {2}node node-1 Ready=Unknown reason NodeStatusUnknown: "Kubelet stopped posting node status."$/,
    );
  });

  it('reports a container restarted while the kubelet is away as a problem', async () => {
    const events = await collect(world({ restartWithoutKubelet: true }));
    expect(events.filter((e) => e.type === 'problem').map((e) => (e as { what: string }).what)).toContain(
      'container httpd of web-a was restarted without a kubelet',
    );
    expect(events.some((e) => e.type === 'container-not-restarted')).toBe(false);
  });

  it('fails with the effect it waited for when the node never goes Unknown', async () => {
    let out = '';
    const w = world({ noLifecycle: true });
    const run = await runScenario(
      {
        scenario: 'kubelet-missing',
        box: w.box(),
        workloadSelector: { key: 'app', value: 'web' },
        leaseRenewIntervalMs: 1000,
        waitTimeoutMs: 20_000,
        pollMs: 500,
        clock: w.clock,
      },
      (line) => (out += line),
    );
    expect(run.problems).toEqual([
      expect.stringMatching(/^node node-1 Ready=Unknown: not observed within 20 s \(last seen: /),
    ]);
    expect(run.events.at(-1)?.type).toBe('lease-not-renewed');
    expect(out).toContain('kubelet on node-1 stopped (pid 101 gone)');
  });
});
