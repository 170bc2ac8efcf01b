import type { KubeObject } from '@nodeagent/testing';
import { describe, expect, it } from 'vitest';
import { lastSyncMs } from '../src/scenarios/kube-proxy-missing';
import { runScenario } from '../src/scenarios/run-scenario';
import type { ScenarioEvent } from '../src/scenarios/scenario-events';
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

const movingWorkload: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'scenario-moved' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'scenario-moved' } },
    template: { metadata: { labels: { app: 'scenario-moved' } }, spec: {} },
  },
};

describe('lastSyncMs', () => {
  it('reads the last-sync gauge; 0 (never set) is no sync yet', () => {
    const text = [
      '# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The last time proxy rules were successfully synced',
      '# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds 1700000000.25',
    ].join('\n');
    expect(lastSyncMs(text)).toBe(1_700_000_000_250);
    expect(lastSyncMs('kubeproxy_sync_proxy_rules_last_timestamp_seconds 0\n')).toBeUndefined();
    expect(lastSyncMs('kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds 5\n')).toBeUndefined();
  });

  it('reads the per-family series (v1.33+): the newest sync of either family', () => {
    const text = [
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv4"} 1700000002',
      'kubeproxy_sync_proxy_rules_last_timestamp_seconds{ip_family="IPv6"} 1700000001',
    ].join('\n');
    expect(lastSyncMs(text)).toBe(1_700_000_002_000);
  });
});

describe('kube-proxy-missing observer (scripted cluster)', () => {
  it('existing rules keep working, a new Service fails only on that node, the restart repairs it', async () => {
    const w = world();
    let out = '';
    const run = await runScenario(
      {
        scenario: 'kube-proxy-missing',
        box: w.box(),
        service: 'web',
        movingWorkload,
        waitTimeoutMs: 30_000,
        pollMs: 500,
        clock: w.clock,
      },
      (line) => (out += line),
    );
    expect(run.problems).toEqual([]);
    expect(run.events.map((e) => e.type)).toEqual([
      'baseline',
      'moved-baseline',
      'kube-proxy-stopped',
      'existing-service-works',
      'service-created',
      'new-service-works-elsewhere',
      'new-service-fails-here',
      'endpoint-moved',
      'moved-service-works-elsewhere',
      'moved-service-fails-here',
      'kube-proxy-started',
      'repaired',
    ]);
    const e = <T extends ScenarioEvent['type']>(type: T) =>
      run.events.find((x) => x.type === type) as Extract<ScenarioEvent, { type: T }>;
    const moved = e('endpoint-moved');
    expect(e('moved-baseline')).toMatchObject({ service: 'scenario-moved', pod: moved.from.pod });
    expect(moved.to.pod).not.toBe(moved.from.pod);
    expect(moved.to.podIP).not.toBe(moved.from.podIP);
    expect(e('moved-service-works-elsewhere')).toMatchObject({
      pod: moved.to.pod,
      nodes: ['node-1', 'node-2'],
    });
    expect(e('moved-service-fails-here')).toMatchObject({
      node: 'node-3',
      staleIP: moved.from.podIP,
      attempts: 3,
    });
    expect(e('repaired')).toMatchObject({
      node: 'node-3',
      services: ['scenario-new', 'scenario-moved'],
      answeredBy: ['web-a', moved.to.pod],
      byFirstSync: true,
    });
    expect(e('repaired').firstSyncSinceRestartMs).toBeGreaterThanOrEqual(0);
    expect(e('repaired').firstSyncSinceRestartMs).toBeLessThanOrEqual(e('repaired').sinceRestartMs);
    expect(run.events[3]).toMatchObject({ node: 'node-3', answeredBy: ['web-a', 'web-a', 'web-a', 'web-a'] });
    expect(run.events[5]).toMatchObject({ nodes: ['node-1', 'node-2'] });
    expect(run.events[6]).toMatchObject({ node: 'node-3', attempts: 3, error: 'wget: download timed out' });
    expect(out).toContain(
      'Service scenario-new fails from node-3 (3 of 3 requests: wget: download timed out)',
    );
    expect(out).toContain(
      `Service scenario-moved fails from node-3: stale rules send to ${moved.from.podIP}`,
    );
    expect(out).toMatch(
      /Services scenario-new, scenario-moved answer from node-3 \(web-a, scenario-moved-\d+\) \d+\.\d s after the restart: repaired by the first sync after restart \(\+\d+\.\d s\)/,
    );
  });

  it('the moved endpoint counts only once the old pod is gone (a terminating pod still serves its IP)', async () => {
    const w = new World(['node-1', 'node-2', 'node-3'], {
      gracePeriodMs: 5000,
      tolerationMs: 3000,
      leaseRenewMs: 1000,
      confirmDeleteAfterMs: 8000,
    });
    w.pod('web-a', 'node-1', undefined, 'web');
    w.put('v1', 'services', 'default', {
      metadata: { name: 'web' },
      spec: { clusterIP: '10.96.0.5', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    w.step();
    const run = await runScenario(
      {
        scenario: 'kube-proxy-missing',
        box: w.box(),
        service: 'web',
        movingWorkload,
        waitTimeoutMs: 30_000,
        pollMs: 500,
        clock: w.clock,
      },
      () => undefined,
    );
    expect(run.problems).toEqual([]);
    const at = (type: string) => run.events.find((e) => e.type === type)?.atMs ?? Number.NaN;
    expect(at('endpoint-moved') - at('new-service-fails-here')).toBeGreaterThanOrEqual(8000);
    expect(run.events.some((e) => e.type === 'moved-service-fails-here')).toBe(true);
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
        movingWorkload,
        waitTimeoutMs: 10_000,
        pollMs: 500,
        clock: w.clock,
      },
      () => undefined,
    );
    expect(run.problems).toEqual([
      expect.stringMatching(
        /answer from node-3 after the restart: not observed within 10 s \(last seen: "kube-proxy's last sync not yet reported"\)$/,
      ),
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
        movingWorkload,
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
