import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeHarness, startNodeHarness, waitFor } from './node-harness';

/**
 * A pod with an inline CSI volume on real containerd: no CSI driver ever registers with this
 * kubelet, so, as upstream v1.36's kubelet with an unregistered driver, the pod is admitted, stays
 * Pending with its container waiting ContainerCreating (no sandbox: the volume wait comes first),
 * and FailedMount events repeat on the mount back-off. Deleting it frees everything.
 */
let node: NodeHarness;
const failedMounts: string[] = [];

beforeAll(async () => {
  node = await startNodeHarness({
    kubelet: {
      api: {
        recordEvent: (pod, _type, reason, message) => {
          if (pod.metadata.name === 'csi-pending' && reason === 'FailedMount') failedMounts.push(message);
        },
      },
    },
  });
}, 120_000);

afterAll(async () => node?.stop(), 120_000);

describe('a csi volume whose driver is not registered (real containerd)', () => {
  it('stays Pending with FailedMount, then is deleted cleanly', async () => {
    const created = node.createPod({
      metadata: { name: 'csi-pending' },
      spec: {
        terminationGracePeriodSeconds: 1,
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'secrets', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true } },
        ],
        containers: [
          {
            name: 'app',
            image: node.busybox,
            command: ['sleep', '3600'],
            volumeMounts: [
              { name: 'scratch', mountPath: '/scratch' },
              { name: 'secrets', mountPath: '/secrets', readOnly: true },
            ],
          },
        ],
      },
    });
    const uid = created.metadata.uid!;
    // Hang guard only: the tries at 0, 0.5, 1.5 and 3.5 s give three events well before it.
    await waitFor('three FailedMount events', () => (failedMounts.length >= 3 ? true : undefined), 60_000);
    expect(new Set(failedMounts)).toEqual(
      new Set([
        'MountVolume.SetUp failed for volume "secrets" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers',
      ]),
    );
    const stored = await node.waitPod('csi-pending', 'its status', (p) =>
      p.status?.containerStatuses ? p.status : undefined,
    );
    expect(stored.phase).toBe('Pending');
    expect(stored.containerStatuses![0]!.state.waiting).toEqual({ reason: 'ContainerCreating' });
    expect(stored.conditions!.find((c) => c.type === 'PodReadyToStartContainers')?.status).toBe('False');
    const sandboxes = async () =>
      (await node.client.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } }))
        .items;
    expect(await sandboxes()).toEqual([]);
    // The supported volume next to it was set up; the pod directory holds it until the delete.
    const podDir = join(node.dir, 'root', 'pods', uid);
    expect((await stat(join(podDir, 'volumes', 'kubernetes.io~empty-dir', 'scratch'))).isDirectory()).toBe(
      true,
    );

    node.deletePod('csi-pending');
    await waitFor('the pod gone from the API', () => (node.getPod('csi-pending') ? undefined : true), 60_000);
    await expect(stat(podDir)).rejects.toThrow();
    expect(await sandboxes()).toEqual([]);
    // (That no try follows the delete is shown on the fake clock: pod-events.test.ts.)
  }, 120_000);
});
