import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerNameLabel, podNameLabel, podNamespaceLabel, podUidLabel } from '../src/cri/labels';
import { deleting } from './helpers/deleting-pod';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
beforeEach(async () => {
  h = await startEngine();
});
afterEach(async () => {
  await h.close();
});

describe('killing a deleted pod from the pod cache', () => {
  it('stops the container before any runtime read: the cache already holds what the pod runs', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    h.fake.calls.length = 0;
    h.kubelet.updatePod(deleting(pod));
    await h.settleThroughRelists();
    const firstStop = h.fake.calls.indexOf('StopContainer');
    expect(firstStop).toBeGreaterThanOrEqual(0);
    // Before: ListPodSandbox and ListContainers for the pod came first.
    expect(h.fake.calls.slice(0, firstStop)).toEqual([]);
    expect(h.fake.calls.indexOf('StopPodSandbox')).toBeGreaterThan(firstStop);
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
  });

  it('stops what the cache does not know once the read-back after the kill shows it running', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    // A newer sandbox and container of the pod, started behind the kubelet's back before any
    // relist saw them (as a sync that failed before its read-back would leave them).
    const podLabels = {
      [podNameLabel]: pod.metadata.name!,
      [podNamespaceLabel]: 'default',
      [podUidLabel]: pod.metadata.uid!,
    };
    const metadata = { name: pod.metadata.name!, uid: pod.metadata.uid!, namespace: 'default', attempt: 1 };
    const sandboxConfig = { metadata, labels: podLabels };
    const { podSandboxId } = await h.client.runPodSandbox({ config: sandboxConfig, runtimeHandler: '' });
    const { containerId } = await h.client.createContainer({
      podSandboxId,
      config: {
        metadata: { name: 'app', attempt: 1 },
        image: { image: busybox },
        command: ['sh', '-c', 'sleep 3600'],
        labels: { ...podLabels, [containerNameLabel]: 'app' },
      },
      sandboxConfig,
    });
    await h.client.startContainer({ containerId });
    h.fake.calls.length = 0;
    h.kubelet.updatePod(deleting(pod));
    await h.kubelet.settle();
    // The cached sandbox first; the unknown one after the read-back, its container with grace.
    expect(h.fake.calls.filter((call) => call === 'StopPodSandbox')).toHaveLength(2);
    expect(h.fake.calls.filter((call) => call === 'StopContainer')).toHaveLength(2);
    const final = h.writer.last(pod.metadata.uid!)!;
    expect(final.containerStatuses![0]!.state.running).toBeUndefined();
    expect(final.containerStatuses![0]!.state.terminated).toBeDefined();
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
  });
});
