import { AppsV1Api, CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/**
 * The whole chain of issue #19's "kubelet missing" scenario on the in-process control plane,
 * with stand-in kubelets (this test renews their Leases and reports their pods): a node whose
 * Lease stops is marked Ready=Unknown and tainted, its pods are evicted after their toleration
 * and replaced by the ReplicaSet on the other nodes; renewing again makes it Ready.
 */
describe('control plane: a node stops renewing its Lease', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('goes Unknown after the grace period, its pods are evicted after the toleration and recreated elsewhere, and it recovers', async () => {
    const clock = new ManualClock(START);
    server = await startApiServer({
      controlPlane: {
        clock,
        nodeLifecycle: {
          nodeMonitorPeriodSeconds: 1,
          nodeMonitorGracePeriodSeconds: 4,
          nodeStartupGracePeriodSeconds: 6,
        },
      },
      defaultUnreachableTolerationSeconds: 6,
      defaultNotReadyTolerationSeconds: 6,
    });
    const s = server;
    const kc = s.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const coord = kc.makeApiClient(CoordinationV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    const nodes = ['node-1', 'node-2', 'node-3'];
    const alive = new Set(nodes);

    for (const name of nodes) {
      await core.createNode({ body: { metadata: { name } } });
      const n = await core.readNode({ name });
      const stamp = iso(START) as never;
      await core.replaceNodeStatus({
        name,
        body: {
          ...n,
          status: {
            allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                lastHeartbeatTime: stamp,
                lastTransitionTime: stamp,
              },
            ],
          },
        },
      });
      await coord.createNamespacedLease({
        namespace: 'kube-node-lease',
        body: {
          metadata: { name },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: clock.now() },
        },
      });
    }
    /** One second of the stand-in kubelets: renew Leases, report their pods Running and Ready. */
    const second = async () => {
      await clock.advance(1000);
      for (const name of alive) {
        const lease = await coord.readNamespacedLease({ name, namespace: 'kube-node-lease' });
        await coord.replaceNamespacedLease({
          name,
          namespace: 'kube-node-lease',
          body: { ...lease, spec: { ...lease.spec, renewTime: clock.now() } },
        });
      }
      for (const p of (await core.listNamespacedPod({ namespace: 'default' })).items) {
        if (!alive.has(p.spec?.nodeName ?? '') || p.status?.phase === 'Running') continue;
        await core.replaceNamespacedPodStatus({
          name: p.metadata?.name as string,
          namespace: 'default',
          body: {
            ...p,
            status: {
              ...p.status,
              phase: 'Running',
              conditions: [...(p.status?.conditions ?? []), { type: 'Ready', status: 'True' }],
            },
          },
        });
      }
      await settle();
    };
    const pods = async () => (await core.listNamespacedPod({ namespace: 'default' })).items;
    const onNode = (list: V1Pod[], node: string) => list.filter((p) => p.spec?.nodeName === node);
    const readyOf = async (name: string) =>
      (await core.readNode({ name })).status?.conditions?.find((c) => c.type === 'Ready');
    const taints = async (name: string) =>
      ((await core.readNode({ name })).spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

    await apps.createNamespacedReplicaSet({
      namespace: 'default',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'c', image: 'nginx:1', resources: { requests: { cpu: '500m' } } }] },
          },
        },
      },
    });
    await second();
    // LeastAllocated spreads the three replicas over the three nodes.
    let list = await pods();
    expect(nodes.map((n) => onNode(list, n).length)).toEqual([1, 1, 1]);
    const victim = onNode(list, 'node-2')[0]?.metadata?.name as string;

    // node-2's kubelet renews for the last time at t=1 s (after the monitor pass of t=1 s). The
    // controller sees that renewal on its pass at t=2 s; Unknown comes on the first pass more
    // than 4 s later (t=7 s). The next pass (t=8 s) is the first to observe Unknown and queues the
    // node; the 100 ms tainting pass adds NoExecute at t=8.1 s, which this 1 s loop shows at t=9 s.
    alive.delete('node-2');
    const timeline: string[] = [];
    for (let t = 2; t <= 16; t++) {
      await second();
      const ready = await readyOf('node-2');
      const pod = (await pods()).find((p) => p.metadata?.name === victim);
      const line = `${ready?.status} ${(await taints('node-2')).join(',')} ${pod?.metadata?.deletionTimestamp ? 'Terminating' : pod?.status?.conditions?.find((c) => c.type === 'Ready')?.status}`;
      if (timeline.at(-1)?.split(': ')[1] !== line) timeline.push(`${t}: ${line}`);
    }
    expect(timeline).toEqual([
      '2: True  True',
      '7: Unknown node.kubernetes.io/unreachable:NoSchedule False',
      '9: Unknown node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule False',
      // The 6 s toleration counts from when the eviction controller saw the NoExecute taint (t=8.1 s).
      '15: Unknown node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule Terminating',
    ]);
    expect((await readyOf('node-2'))?.reason).toBe('NodeStatusUnknown');

    // The replacement went to a node that is up; the evicted pod stays Terminating (no kubelet).
    list = await pods();
    const active = list.filter((p) => !p.metadata?.deletionTimestamp);
    expect(active).toHaveLength(3);
    expect(onNode(active, 'node-2')).toEqual([]);
    expect(list.find((p) => p.metadata?.name === victim)?.metadata?.deletionTimestamp).toBeDefined();
    const rs = await apps.readNamespacedReplicaSet({ name: 'web', namespace: 'default' });
    expect(rs.status).toMatchObject({ replicas: 3, readyReplicas: 3 });

    // The kubelet comes back: it posts Ready and renews; the taints go.
    alive.add('node-2');
    const n2 = await core.readNode({ name: 'node-2' });
    const stamp = iso(clock.now().getTime()) as never;
    await core.replaceNodeStatus({
      name: 'node-2',
      body: {
        ...n2,
        status: {
          ...n2.status,
          conditions: (n2.status?.conditions ?? []).map((c) =>
            c.type === 'Ready'
              ? {
                  type: 'Ready',
                  status: 'True',
                  reason: 'KubeletReady',
                  lastHeartbeatTime: stamp,
                  lastTransitionTime: stamp,
                }
              : c,
          ),
        },
      },
    });
    await second();
    await second();
    expect((await readyOf('node-2'))?.status).toBe('True');
    expect(await taints('node-2')).toEqual([]);
  });

  it('with upstream-default timings: Unknown 60 s after the last renewal here, evicted 300 s after the NoExecute taint', async () => {
    const clock = new ManualClock(START);
    server = await startApiServer({ controlPlane: { clock } });
    const s = server;
    const nodes = s.resource('v1', 'nodes');
    const pods = s.resource('v1', 'pods');
    const leases = s.resource('coordination.k8s.io/v1', 'leases');
    const rsType = s.resource('apps/v1', 'replicasets');
    const names = ['node-1', 'node-2', 'node-3'];
    const alive = new Set(names);
    for (const name of names) {
      s.registry.create(nodes, undefined, { metadata: { name } });
      const stamp = iso(START);
      s.registry.update(
        nodes,
        undefined,
        name,
        {
          ...s.registry.get(nodes, undefined, name),
          status: {
            conditions: [
              { type: 'Ready', status: 'True', lastHeartbeatTime: stamp, lastTransitionTime: stamp },
            ],
          },
        },
        'status',
      );
      s.registry.create(leases, 'kube-node-lease', {
        metadata: { name },
        spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: clock.now().toISOString() },
      });
    }
    s.registry.create(rsType, 'default', {
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx:1' }] },
        },
      },
    });
    await s.controlPlane?.settled();
    const victim = s.registry
      .list(pods, 'default')
      .find((p) => (p.spec as { nodeName?: string }).nodeName === 'node-2')?.metadata.name as string;
    expect(victim).toBeDefined();
    // Stand-in kubelets renew every 10 s (upstream: a quarter of leaseDurationSeconds 40); node-2's stops at t=0.
    alive.delete('node-2');
    const events: string[] = [];
    const seen = new Set<string>();
    const note = (what: string) => {
      if (seen.has(what)) return;
      seen.add(what);
      events.push(`${((clock.now().getTime() - START) / 1000).toFixed(1)}s ${what}`);
    };
    // 100 ms steps, the NoExecute tainting pass's period, so each effect is seen when it happens.
    for (let step = 1; step <= 4200; step++) {
      await clock.advance(100);
      if (step % 100 === 0)
        for (const name of alive) {
          const lease = s.registry.get(leases, 'kube-node-lease', name);
          s.registry.update(leases, 'kube-node-lease', name, {
            ...lease,
            spec: { ...(lease.spec as object), renewTime: clock.now().toISOString() },
          });
        }
      await s.controlPlane?.settled();
      const n2 = s.registry.get(nodes, undefined, 'node-2');
      const ready = (n2.status as { conditions: { type: string; status: string }[] }).conditions.find(
        (c) => c.type === 'Ready',
      );
      if (ready?.status === 'Unknown') note('node-2 Ready=Unknown');
      for (const t2 of ((n2.spec ?? {}) as { taints?: { key: string; effect: string }[] }).taints ?? [])
        note(`taint ${t2.key}:${t2.effect}`);
      const pod = s.registry.find(pods, 'default', victim);
      if (pod?.metadata.deletionTimestamp) note(`${victim.replace(/-.*/, '-…')} on node-2 Terminating`);
      const active = s.registry.list(pods, 'default').filter((p) => !p.metadata.deletionTimestamp);
      if (
        seen.size > 0 &&
        active.length === 3 &&
        active.every((p) => (p.spec as { nodeName?: string }).nodeName !== 'node-2')
      )
        note('3 active replicas, none on node-2');
    }
    // The controller's passes run at t=0, 5, 10 s...; the one at t=0 came before the nodes
    // existed, so node-2 (and its Lease renewed at t=0) was first seen alive at t=5 s. The first
    // pass more than 50 s after that is at t=60 s (NoSchedule at once, from the node update); the
    // pass at t=65 s is the first to observe Unknown and queues the node, and the 100 ms tainting
    // pass adds NoExecute at t=65.1 s, as upstream; the 300 s default toleration then ends at
    // t=365.1 s, when the ReplicaSet replaces the pod elsewhere.
    expect(events).toEqual([
      '60.0s node-2 Ready=Unknown',
      '60.0s taint node.kubernetes.io/unreachable:NoSchedule',
      '65.1s taint node.kubernetes.io/unreachable:NoExecute',
      '365.1s web-… on node-2 Terminating',
      '365.1s 3 active replicas, none on node-2',
    ]);
  });

  it('names a bad default toleration', async () => {
    await expect(startApiServer({ defaultUnreachableTolerationSeconds: -1 })).rejects.toThrow(
      'defaultUnreachableTolerationSeconds: must be a non-negative integer number of seconds, got -1',
    );
  });
});
