import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, type KubeObject, ManualClock, startApiServer } from '../src/apiserver/index';

type Obj = Record<string, unknown>;

const run = promisify(execFile);
const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

describe('node lifecycle controller', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup(options: Obj = {}) {
    const clock = new ManualClock(START);
    server = await startApiServer({
      controlPlane: { clock, scheduler: false, replicaSet: false, ...options },
    });
    const kc = server.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const coord = kc.makeApiClient(CoordinationV1Api);
    const s = server;
    const settle = async () => {
      await s.controlPlane?.settled();
    };
    /** What a kubelet does at registration: the Node with Ready=True, and its Lease. */
    const registerNode = async (name: string) => {
      await core.createNode({ body: { metadata: { name } } });
      const stamp = iso(clock.now().getTime()) as never;
      await core.replaceNodeStatus({
        name,
        body: {
          metadata: { name },
          status: {
            conditions: [
              {
                type: 'MemoryPressure',
                status: 'False',
                reason: 'KubeletHasSufficientMemory',
                message: 'ok',
                lastHeartbeatTime: stamp,
                lastTransitionTime: stamp,
              },
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet is posting ready status',
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
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(clock.now()) as never },
        },
      });
    };
    const renewLease = async (name: string) => {
      const lease = await coord.readNamespacedLease({ name, namespace: 'kube-node-lease' });
      lease.spec = { ...lease.spec, renewTime: new Date(clock.now()) as never };
      await coord.replaceNamespacedLease({ name, namespace: 'kube-node-lease', body: lease });
    };
    /** What the kubelet's status loop does: Ready with a fresh heartbeat. */
    const setReady = async (name: string, status: 'True' | 'False', reason: string) => {
      const n = await core.readNode({ name });
      const stamp = iso(clock.now().getTime());
      const others = (n.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
      n.status = {
        ...n.status,
        conditions: [
          ...others,
          {
            type: 'Ready',
            status,
            reason,
            message: reason,
            lastHeartbeatTime: stamp as never,
            lastTransitionTime: stamp as never,
          },
        ],
      };
      await core.replaceNodeStatus({ name, body: n });
    };
    const node = async (name: string) => (await core.readNode({ name })) as unknown as KubeObject;
    const condition = (n: KubeObject, type: string) =>
      (((n.status ?? {}) as { conditions?: Obj[] }).conditions ?? []).find((c) => c.type === type) as Obj;
    const taints = (n: KubeObject) =>
      ((((n.spec ?? {}) as Obj).taints as Obj[] | undefined) ?? []).map((t) => `${t.key}:${t.effect}`).sort();
    return { clock, core, coord, registerNode, renewLease, setReady, node, condition, taints, settle };
  }

  it('marks a node whose Lease is not renewed Ready=Unknown after 50 s (upstream v1.34 default), taints it, and recovers', async () => {
    const { clock, core, registerNode, renewLease, setReady, node, condition, taints, settle } =
      await setup();
    await registerNode('n1');
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'p1' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i:1' }] } },
    });
    const pod0 = await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    await core.replaceNamespacedPodStatus({
      name: 'p1',
      namespace: 'default',
      body: { ...pod0, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
    });
    await clock.advance(0);
    await settle();
    // Renewed every 10 s for a minute: still Ready, no taints.
    for (let i = 0; i < 6; i++) {
      await clock.advance(10_000);
      await renewLease('n1');
    }
    await settle();
    expect(condition(await node('n1'), 'Ready').status).toBe('True');
    expect(taints(await node('n1'))).toEqual([]);

    // The kubelet stops after renewing at +60 s. The controller saw that renewal on its pass at
    // +65 s; Unknown comes on the first pass more than 50 s later (+120 s), not at +115 s.
    const stoppedAt = clock.now().getTime();
    await clock.advance(55_000);
    await settle();
    expect(condition(await node('n1'), 'Ready').status).toBe('True');
    await clock.advance(5_000);
    await settle();
    let n = await node('n1');
    const ready = condition(n, 'Ready');
    expect(ready).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusUnknown',
      message: 'Kubelet stopped posting node status.',
      lastTransitionTime: new Date(stoppedAt + 60_000),
    });
    // lastHeartbeatTime stays the kubelet's last one.
    expect(new Date(ready.lastHeartbeatTime as string).getTime()).toBe(START);
    // kubectl prints Ready=Unknown as NotReady, like the real node printer.
    const dir = mkdtempSync(join(tmpdir(), 'node-lifecycle-'));
    try {
      server?.writeKubeconfig(join(dir, 'kubeconfig'));
      const { stdout } = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'nodes'], {
        timeout: 30_000,
      });
      expect(stdout).toMatch(/\nn1\s+NotReady\s+<none>\s/);
      const events = await run('kubectl', ['--kubeconfig', join(dir, 'kubeconfig'), 'get', 'events'], {
        timeout: 30_000,
      });
      expect(events.stdout).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
      expect(events.stdout).toMatch(
        /\n0s\s+Normal\s+NodeNotReady\s+node\/n1\s+Node n1 status is now: NodeNotReady\n/,
      );
      expect(events.stdout).toMatch(/\n0s\s+Warning\s+NodeNotReady\s+pod\/p1\s+Node is not ready\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(condition(n, 'MemoryPressure')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(condition(n, 'DiskPressure')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
    });
    // NoSchedule at once (node update → doNoScheduleTaintingPass); NoExecute is queued by the next
    // monitor pass, which is the first to observe Unknown (upstream's observedReadyCondition).
    expect(taints(n)).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    const pod = await core.readNamespacedPod({ name: 'p1', namespace: 'default' });
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const events = (await core.listNamespacedEvent({ namespace: 'default' })).items;
    expect(events.map((e) => [e.involvedObject.kind, e.reason, e.message])).toEqual(
      expect.arrayContaining([
        ['Node', 'NodeNotReady', 'Node n1 status is now: NodeNotReady'],
        ['Pod', 'NodeNotReady', 'Node is not ready'],
      ]),
    );
    // The next pass (+5 s) sees Ready=Unknown and queues the node; the NoExecute taint comes from
    // the 100 ms doNoExecuteTaintingPass after it, not with the pass itself.
    await clock.advance(5_000);
    await settle();
    expect(taints(await node('n1'))).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    await clock.advance(99);
    await settle();
    expect(taints(await node('n1'))).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    await clock.advance(1);
    await settle();
    n = await node('n1');
    expect(taints(n)).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    const noExecute = ((n.spec as Obj).taints as Obj[]).find((t) => t.effect === 'NoExecute');
    expect(noExecute?.timeAdded).toEqual(new Date(stoppedAt + 65_000));

    // timeAdded is whole seconds (+65.1 s printed as +65 s).
    // The kubelet comes back: Ready=True again, both taints go.
    await setReady('n1', 'True', 'KubeletReady');
    await renewLease('n1');
    await settle();
    // NoSchedule follows the condition at once; NoExecute goes on the next pass (markNodeAsReachable).
    expect(taints(await node('n1'))).toEqual(['node.kubernetes.io/unreachable:NoExecute']);
    await clock.advance(5_000);
    await settle();
    expect(condition(await node('n1'), 'Ready').status).toBe('True');
    expect(taints(await node('n1'))).toEqual([]);
  });

  it('gives a node that never posted status the startup grace period, then reports it never did', async () => {
    const { clock, core, node, condition, taints, settle } = await setup({
      nodeLifecycle: {
        nodeMonitorPeriodSeconds: 1,
        nodeMonitorGracePeriodSeconds: 4,
        nodeStartupGracePeriodSeconds: 10,
      },
    });
    await core.createNode({ body: { metadata: { name: 'fresh' } } });
    await clock.advance(10_000);
    await settle();
    expect(condition(await node('fresh'), 'Ready')).toBeUndefined();
    await clock.advance(1_000);
    await settle();
    expect(taints(await node('fresh'))).toEqual(['node.kubernetes.io/unreachable:NoSchedule']);
    // Never posted Ready counts as observed Unknown, so this same pass queues the NoExecute taint.
    await clock.advance(100);
    await settle();
    const n = await node('fresh');
    expect(condition(n, 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
    });
    expect(taints(n)).toEqual([
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
  });

  it('swaps not-ready and unreachable taints as the kubelet reports Ready=False, and taints unschedulable nodes', async () => {
    const { clock, core, registerNode, setReady, node, taints, settle } = await setup();
    await registerNode('n2');
    await setReady('n2', 'False', 'KubeletNotReady');
    await settle();
    expect(taints(await node('n2'))).toEqual(['node.kubernetes.io/not-ready:NoSchedule']);
    await clock.advance(5_000);
    await settle();
    expect(taints(await node('n2'))).toEqual(['node.kubernetes.io/not-ready:NoSchedule']);
    await clock.advance(100);
    await settle();
    expect(taints(await node('n2'))).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
    ]);
    const n2 = await core.readNode({ name: 'n2' });
    await core.replaceNode({ name: 'n2', body: { ...n2, spec: { ...n2.spec, unschedulable: true } } });
    await settle();
    expect(taints(await node('n2'))).toContain('node.kubernetes.io/unschedulable:NoSchedule');
  });

  it('does not taint a node that is Ready again before the 100 ms tainting pass', async () => {
    const { clock, registerNode, setReady, node, taints, settle } = await setup();
    await registerNode('n3');
    await setReady('n3', 'False', 'KubeletNotReady');
    await clock.advance(5_000); // this pass observes False and queues n3
    await settle();
    await setReady('n3', 'True', 'KubeletReady');
    await clock.advance(100); // the tainting pass reads Ready=True now: nothing to add
    await settle();
    expect(taints(await node('n3'))).toEqual([]);
    await clock.advance(10_000);
    await settle();
    expect(taints(await node('n3'))).toEqual([]);
  });

  it('rejects a non-positive grace period naming the option', async () => {
    await expect(
      startApiServer({ controlPlane: { nodeLifecycle: { nodeMonitorGracePeriodSeconds: 0 } } }),
    ).rejects.toThrow(
      'nodeLifecycle.nodeMonitorGracePeriodSeconds: must be a positive number of seconds, got 0',
    );
  });
});
