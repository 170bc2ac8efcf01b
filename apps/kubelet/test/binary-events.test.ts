import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './binary-harness';
import { busybox, type FakeNodeKubelet, fakeNodeKubelet } from './fake-node-kubelet';

const nodeName = 'events-node';

let fakeNode: FakeNodeKubelet;
let core: CoreV1Api;

beforeAll(async () => {
  fakeNode = await fakeNodeKubelet({
    nodeName,
    dirPrefix: 'na-kubelet-events',
    flags: ['--anonymous-auth=true'],
  });
  core = fakeNode.core;
  // The liveness probe's command fails with this output; anything else succeeds.
  fakeNode.fake.onExecSync((_id, cmd) =>
    cmd[0] === 'live'
      ? { stdout: 'not alive\n', stderr: '', exitCode: 1, blocks: false }
      : { stdout: '', stderr: '', exitCode: 0, blocks: false },
  );
  await fakeNode.startKubelet();
}, 60_000);

afterAll(async () => {
  await fakeNode?.close();
});

async function events(): Promise<CoreV1Event[]> {
  return (await core.listNamespacedEvent({ namespace: 'default' })).items;
}

describe('nodeagent-kubelet binary: upstream events through the API server', () => {
  it('posts node events, pod container events with fieldPath and Unhealthy for a failing liveness probe', async () => {
    await waitFor('node registered', async () => (await core.readNode({ name: nodeName })).metadata?.name);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'probed' },
        spec: {
          nodeName,
          containers: [
            {
              name: 'c',
              image: busybox,
              command: ['sh', '-c', 'sleep 3600'],
              // A high threshold: failures are recorded without restarting the container.
              livenessProbe: { exec: { command: ['live'] }, periodSeconds: 1, failureThreshold: 1000 },
            },
          ],
        },
      },
    });
    // A RuntimeClass the API server does not have: the sandbox fails with upstream's NotFound.
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'no-class' },
        spec: { nodeName, runtimeClassName: 'missing', containers: [{ name: 'c', image: busybox }] },
      },
    });
    const find = (all: CoreV1Event[], kind: string, name: string, reason: string) =>
      all.find(
        (e) => e.involvedObject.kind === kind && e.involvedObject.name === name && e.reason === reason,
      );
    const all = await waitFor('the events', async () => {
      const all = await events();
      const wanted: [string, string, string][] = [
        ['Node', nodeName, 'Starting'],
        ['Node', nodeName, 'NodeHasSufficientMemory'],
        ['Node', nodeName, 'NodeReady'],
        ['Node', nodeName, 'InvalidDiskCapacity'],
        ['Pod', 'probed', 'Created'],
        ['Pod', 'probed', 'Started'],
        ['Pod', 'probed', 'Unhealthy'],
        ['Pod', 'no-class', 'FailedCreatePodSandBox'],
      ];
      return wanted.every(([kind, name, reason]) => find(all, kind, name, reason)) && all;
    });

    const source = { component: 'kubelet', host: nodeName };
    expect(find(all, 'Node', nodeName, 'Starting')).toMatchObject({
      type: 'Normal',
      message: 'Starting kubelet.',
      involvedObject: { kind: 'Node', name: nodeName, uid: nodeName },
      source,
      reportingComponent: 'kubelet',
      reportingInstance: nodeName,
    });
    for (const reason of [
      'NodeHasSufficientMemory',
      'NodeHasNoDiskPressure',
      'NodeHasSufficientPID',
      'NodeReady',
    ])
      expect(find(all, 'Node', nodeName, reason)).toMatchObject({
        type: 'Normal',
        message: `Node ${nodeName} status is now: ${reason}`,
      });
    // Image GC's first pass, at start, before the image filesystem was measured (as upstream's);
    // once, and no ImageGCFailed: that is for a failure after a failure.
    expect(all.filter((e) => e.reason === 'InvalidDiskCapacity')).toMatchObject([
      {
        type: 'Warning',
        message: 'invalid capacity 0 on image filesystem',
        involvedObject: { kind: 'Node', name: nodeName, uid: nodeName },
        source,
        count: 1,
      },
    ]);
    expect(find(all, 'Node', nodeName, 'ImageGCFailed')).toBeUndefined();
    // --cgroups-per-qos=false: no kubepods cgroup, so no NodeAllocatableEnforced (as upstream).
    expect(find(all, 'Node', nodeName, 'NodeAllocatableEnforced')).toBeUndefined();

    for (const [reason, message] of [
      ['Created', 'Container created'],
      ['Started', 'Container started'],
    ] as const)
      expect(find(all, 'Pod', 'probed', reason)).toMatchObject({
        type: 'Normal',
        message,
        involvedObject: {
          kind: 'Pod',
          namespace: 'default',
          name: 'probed',
          fieldPath: 'spec.containers{c}',
        },
        source,
        reportingComponent: 'kubelet',
        reportingInstance: nodeName,
      });
    expect(find(all, 'Pod', 'probed', 'Unhealthy')).toMatchObject({
      type: 'Warning',
      message: 'Liveness probe failed: not alive\n',
      involvedObject: { fieldPath: 'spec.containers{c}' },
      source,
      reportingComponent: 'kubelet',
    });
    expect(find(all, 'Pod', 'no-class', 'FailedCreatePodSandBox')?.message).toContain(
      'runtimeclasses.node.k8s.io "missing" not found',
    );

    // Repeated probe failures are one Event whose count grows (client-go's correlation).
    await waitFor('the Unhealthy count to grow', async () => {
      const unhealthy = (await events()).filter(
        (e) => e.involvedObject.name === 'probed' && e.reason === 'Unhealthy',
      );
      return unhealthy.length === 1 && (unhealthy[0]!.count ?? 0) >= 2;
    });
  }, 300_000);
});
