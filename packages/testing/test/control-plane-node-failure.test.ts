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
    // than 4 s later (t=7 s), NoExecute one pass after that.
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
      '8: Unknown node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule False',
      // The 6 s toleration counts from when the eviction controller saw the NoExecute taint (t=8 s).
      '14: Unknown node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule Terminating',
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

  it('names a bad default toleration', async () => {
    await expect(startApiServer({ defaultUnreachableTolerationSeconds: -1 })).rejects.toThrow(
      'defaultUnreachableTolerationSeconds: must be a non-negative integer number of seconds, got -1',
    );
  });
});
