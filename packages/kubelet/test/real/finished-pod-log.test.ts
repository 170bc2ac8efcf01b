import { describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { type NodeHarness, useNodeHarness, waitFor } from './node-harness';

/**
 * `kubectl logs` of a finished Job's pod, and the e2e framework's TestContainerOutput: the pod
 * has Succeeded and stays (nobody deleted it), so its container, and the container's log, stay
 * until the pod is deleted, whenever the periodic container GC runs meanwhile (upstream keeps
 * the newest dead instance of each container; only deleted or evicted pods lose them all).
 */
let node: NodeHarness;
useNodeHarness((started) => {
  node = started;
});

const namespace = 'default';

describe('the log of a pod that has finished', () => {
  it('is still there after the container GC ran', { timeout: 180_000 }, async () => {
    const created = node.createPod({
      metadata: { name: 'finished', namespace },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'job',
            image: node.busybox,
            command: ['sh', '-c', 'echo line-1; echo line-2; echo line-3'],
          },
        ],
      },
    });
    const uid = created.metadata.uid as string;
    await node.waitPod('finished', 'Succeeded', (pod: Pod) =>
      pod.status?.phase === 'Succeeded' ? pod : undefined,
    );
    // The kubelet has stopped the finished pod (its sandbox is not ready) and is done with it.
    await waitFor('the sandbox stopped', async () => {
      const { items } = await node.client.listPodSandbox({});
      const sandbox = items.find((s) => s.metadata?.uid === uid);
      return sandbox && sandbox.state !== 0 ? sandbox : undefined;
    });
    await node.kubelet.settle();
    // A round of the periodic container GC, as it comes once a minute.
    await node.kubelet.containerGC.run();
    expect(await node.core.readNamespacedPodLog({ name: 'finished', namespace, container: 'job' })).toBe(
      'line-1\nline-2\nline-3\n',
    );
    const { containers } = await node.client.listContainers({});
    expect(containers.filter((c) => c.labels['io.kubernetes.pod.uid'] === uid)).toHaveLength(1);
    node.deletePod('finished', 0);
  });
});
