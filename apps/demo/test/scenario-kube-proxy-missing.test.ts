import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/scenarios/run-scenario';
import { World } from './scenario-world';

function world(): World {
  const w = new World(['node-1', 'node-2', 'node-3'], {
    gracePeriodMs: 5000,
    tolerationMs: 3000,
    leaseRenewMs: 1000,
  });
  w.pod('web-a', 'node-1', undefined, 'web');
  w.put('v1', 'services', 'default', {
    metadata: { name: 'web' },
    spec: {
      clusterIP: '10.96.0.5',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  });
  w.step();
  return w;
}

describe('kube-proxy-missing observer (scripted cluster)', () => {
  it('existing rules keep working, a new Service fails only on that node, the restart repairs it', async () => {
    const w = world();
    let out = '';
    const run = await runScenario(
      {
        scenario: 'kube-proxy-missing',
        box: w.box(),
        service: 'web',
        waitTimeoutMs: 30_000,
        pollMs: 500,
        clock: w.clock,
      },
      (line) => (out += line),
    );
    expect(run.problems).toEqual([]);
    expect(run.events.map((e) => e.type)).toEqual([
      'baseline',
      'kube-proxy-stopped',
      'existing-service-works',
      'service-created',
      'new-service-works-elsewhere',
      'new-service-fails-here',
      'kube-proxy-started',
      'repaired',
    ]);
    expect(run.events[2]).toMatchObject({ node: 'node-3', answeredBy: ['web-a', 'web-a', 'web-a', 'web-a'] });
    expect(run.events[4]).toMatchObject({ nodes: ['node-1', 'node-2'] });
    expect(run.events[5]).toMatchObject({ node: 'node-3', attempts: 3, error: 'wget: download timed out' });
    expect(out).toContain(
      'Service scenario-new fails from node-3 (3 of 3 requests: wget: download timed out)',
    );
    expect(out).toMatch(/Service scenario-new answers from node-3 \(web-a\) \d+\.\d s after the restart/);
  });

  it('a kube-proxy that never comes back is reported with what was awaited', async () => {
    const w = world();
    const box = w.box();
    const node3 = box.nodes[2];
    if (node3) node3.startKubeProxy = async () => ({ pid: 0 });
    const run = await runScenario(
      {
        scenario: 'kube-proxy-missing',
        box,
        service: 'web',
        waitTimeoutMs: 10_000,
        pollMs: 500,
        clock: w.clock,
      },
      () => undefined,
    );
    expect(run.problems).toEqual([
      expect.stringMatching(/answers from node-3 after the restart: not observed within 10 s$/),
    ]);
  });

  it('a restarted kube-proxy that crashes ends the wait at once, naming the node and why', async () => {
    const w = world();
    const box = w.box();
    const node3 = box.nodes[2];
    let started = false;
    if (node3) {
      node3.startKubeProxy = async () => {
        started = true;
        return { pid: 505 };
      };
      node3.agentExited = (agent) => (started && agent === 'kube-proxy' ? 'exited with code 1' : undefined);
    }
    const startAt = w.now;
    const run = await runScenario(
      {
        scenario: 'kube-proxy-missing',
        box,
        service: 'web',
        waitTimeoutMs: 600_000,
        pollMs: 500,
        clock: w.clock,
      },
      () => undefined,
    );
    expect(run.problems).toEqual(['kube-proxy: on node-3 exited with code 1']);
    expect(w.now - startAt).toBeLessThan(60_000);
  });
});
