import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiServer, ManualClock, startApiServer } from '../src/apiserver/index';

type Obj = Record<string, unknown>;

describe('scheduler', () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function setup(controlPlane: Obj | false = {}) {
    const clock = new ManualClock();
    server = await startApiServer(
      controlPlane === false
        ? {}
        : {
            controlPlane: {
              clock,
              nodeLifecycle: false,
              taintEviction: false,
              replicaSet: false,
              ...controlPlane,
            },
          },
    );
    const s = server;
    const core = s.kubeConfig().makeApiClient(CoreV1Api);
    const settle = () => s.controlPlane?.settled() ?? Promise.resolve();
    const addNode = async (
      name: string,
      opts: { cpu?: string; pods?: string; labels?: Record<string, string>; spec?: Obj } = {},
    ) => {
      await core.createNode({
        body: { metadata: { name, labels: opts.labels ?? {} }, spec: opts.spec ?? {} },
      });
      const n = await core.readNode({ name });
      await core.replaceNodeStatus({
        name,
        body: {
          ...n,
          status: { allocatable: { cpu: opts.cpu ?? '4', memory: '8Gi', pods: opts.pods ?? '110' } },
        },
      });
    };
    const createPod = async (name: string, spec: Obj = {}, cpu?: string) => {
      await core.createNamespacedPod({
        namespace: 'default',
        body: {
          metadata: { name },
          spec: {
            containers: [{ name: 'c', image: 'i:1', ...(cpu ? { resources: { requests: { cpu } } } : {}) }],
            ...spec,
          } as V1Pod['spec'],
        },
      });
      await settle();
      return core.readNamespacedPod({ name, namespace: 'default' });
    };
    const scheduled = (p: V1Pod) => p.status?.conditions?.find((c) => c.type === 'PodScheduled');
    const events = async (reason: string) =>
      (await core.listNamespacedEvent({ namespace: 'default' })).items
        .filter((e) => e.reason === reason)
        .map((e) => `${e.involvedObject.name}: ${e.message}`);
    return { core, settle, addNode, createPod, scheduled, events };
  }

  it('is off unless asked for: an unscheduled pod stays Pending without a node', async () => {
    const { addNode, createPod } = await setup(false);
    await addNode('n1');
    const p = await createPod('p');
    expect(p.spec?.nodeName).toBeUndefined();
    expect(p.status?.conditions ?? []).toEqual([]);
  });

  it('binds to a node that fits (PodScheduled True, Scheduled event) and explains a pod no node fits in upstream words', async () => {
    const { core, addNode, createPod, scheduled, events } = await setup();
    await addNode('n1', { cpu: '1' });
    await addNode('n2', {
      spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] },
    });
    await addNode('n3', { cpu: '2' });

    const big = await createPod('big', {}, '1500m');
    expect(big.spec?.nodeName).toBe('n3');
    expect(scheduled(big)).toMatchObject({ status: 'True' });
    expect(await events('Scheduled')).toEqual(['big: Successfully assigned default/big to n3']);

    const next = await createPod('next', {}, '1500m');
    expect(next.spec?.nodeName).toBeUndefined();
    const message =
      '0/3 nodes are available: 1 node(s) had untolerated taint(s), 2 Insufficient cpu. ' +
      'no new claims to deallocate, preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    expect(scheduled(next)).toMatchObject({ status: 'False', reason: 'Unschedulable', message });
    expect(await events('FailedScheduling')).toEqual([`next: ${message}`]);

    // The first pod going away frees n3: the pending pod is tried again and lands there.
    await core.deleteNamespacedPod({ name: 'big', namespace: 'default', gracePeriodSeconds: 0 });
    await server?.controlPlane?.settled();
    const after = await core.readNamespacedPod({ name: 'next', namespace: 'default' });
    expect(after.spec?.nodeName).toBe('n3');
    expect(scheduled(after)).toMatchObject({ status: 'True' });
  });

  it('honours tolerations, nodeSelector, required node affinity, unschedulable nodes and the pod limit', async () => {
    const { addNode, createPod, scheduled } = await setup();
    await addNode('a', {
      labels: { zone: 'a' },
      spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] },
    });
    await addNode('b', { labels: { zone: 'b' }, spec: { unschedulable: true } });
    await addNode('c', { labels: { zone: 'c', disk: 'ssd' }, pods: '1' });

    expect(
      (
        await createPod('tolerant', {
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db' }],
          nodeSelector: { zone: 'a' },
        })
      ).spec?.nodeName,
    ).toBe('a');
    expect(
      (
        await createPod('ssd', {
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: 'disk', operator: 'Exists' },
                      { key: 'zone', operator: 'NotIn', values: ['a', 'b'] },
                    ],
                  },
                ],
              },
            },
          },
        })
      ).spec?.nodeName,
    ).toBe('c');
    const full = await createPod('full', { nodeSelector: { zone: 'c' } });
    expect(scheduled(full)?.message).toBe(
      // Node a fails on its taint first: filters run in the default profile's order.
      '0/3 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. ' +
        'no new claims to deallocate, preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
    const other = await createPod('other-scheduler', { schedulerName: 'my-scheduler' });
    expect(other.spec?.nodeName).toBeUndefined();
    expect(scheduled(other)).toBeUndefined();
  });

  it('says so when there are no nodes, and schedules the pod once a node registers', async () => {
    const { addNode, createPod, scheduled, core } = await setup();
    const p = await createPod('early');
    expect(scheduled(p)).toMatchObject({
      status: 'False',
      reason: 'Unschedulable',
      message: 'no nodes available to schedule pods',
    });
    await addNode('late');
    await server?.controlPlane?.settled();
    expect((await core.readNamespacedPod({ name: 'early', namespace: 'default' })).spec?.nodeName).toBe(
      'late',
    );
  });
});
