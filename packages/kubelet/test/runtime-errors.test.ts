import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeletLogger } from '../src/kubelet-logger';
import { busybox, type EngineHarness, startEngine, testPod } from './helpers/engine';

/** gRPC UNKNOWN, as containerd answers RemoveContainer for a container it is still starting. */
const unknown = 2;
const startingState =
  "failed to set removing state for container: container is in starting state, can't be removed";

describe('CRI errors during pod cleanup never end the kubelet', () => {
  let h: EngineHarness;
  const warnings: string[] = [];
  const events: string[] = [];
  const logger: KubeletLogger = {
    info() {},
    warn: (_obj, msg) => warnings.push(msg ?? ''),
    error: (_obj, msg) => warnings.push(msg ?? ''),
  };
  beforeEach(async () => {
    warnings.length = 0;
    events.length = 0;
    h = await startEngine(
      {
        logger,
        api: { recordEvent: (_pod, type, reason, message) => events.push(`${type} ${reason}: ${message}`) },
      },
      { runtimeOnFakeClock: true },
    );
  });
  afterEach(async () => h.close());

  it('a refused RemoveContainer of a deleted finished pod is logged, the pod still deleted, the container collected later', async () => {
    const pod = testPod({ restartPolicy: 'Never' });
    pod.spec.containers[0] = { name: 'app', image: busybox, command: ['sh', '-c', 'exit 0'] };
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Succeeded');
    expect(h.kubelet.workers.isTerminated(pod.metadata.uid!)).toBe(true);

    // The API server deletes the finished pod; the runtime refuses the removals (containerd's
    // RemovePodSandbox would take the container with it, so it is refused too).
    h.fake.injectError('RemoveContainer', { code: unknown, details: startingState });
    h.fake.injectError('RemovePodSandbox', { code: unknown, details: 'sandbox is being stopped' });
    h.kubelet.updatePod({
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: new Date(h.clock.now()).toISOString() },
    });
    // Before, this cleanup's rejection went unhandled (the process exited); now it resolves.
    await h.kubelet.cleanups();
    expect(warnings).toContain('Failed to remove container or sandbox');
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    expect((await h.client.listContainers({})).containers).toHaveLength(1);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(1);

    // The periodic container GC removes what was left: the pod is unknown to the kubelet now.
    expect(await h.kubelet.containerGC.run()).toBeGreaterThan(0);
    expect((await h.client.listContainers({})).containers).toHaveLength(0);
    expect((await h.client.listPodSandbox({})).items).toHaveLength(0);
  });

  it('a failing container GC round is reported and does not throw', async () => {
    h.fake.injectError('ListPodSandbox', {
      code: unknown,
      details: 'runtime is restarting',
      times: Infinity,
    });
    h.fake.injectError('ListContainers', {
      code: unknown,
      details: 'runtime is restarting',
      times: Infinity,
    });
    expect(await h.kubelet.containerGC.run()).toBe(0);
    h.fake.clearInjections();
    expect(warnings).toContain('Container garbage collection failed');
  });

  it('a refused RemoveContainer while a worker cleans up a deleted running pod still deletes it', async () => {
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
    h.fake.injectError('RemoveContainer', { code: unknown, details: startingState });
    h.kubelet.updatePod({
      ...pod,
      metadata: {
        ...pod.metadata,
        deletionTimestamp: new Date(h.clock.now()).toISOString(),
        deletionGracePeriodSeconds: 0,
      },
    });
    await h.kubelet.settle();
    await h.kubelet.cleanups();
    expect(h.writer.deleted).toEqual([pod.metadata.uid]);
    expect(warnings).toContain('Failed to remove container or sandbox');
    expect(warnings).not.toContain('Pod sync failed');
  });

  it('a failing RunPodSandbox is an event in upstream words and the pod waits for the retry', async () => {
    const cni =
      'failed to setup network for sandbox: plugin type="bridge" failed (add): no IP addresses available';
    h.fake.injectError('RunPodSandbox', { code: unknown, details: cni });
    const pod = testPod();
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    expect(events).toContain(
      `Warning FailedCreatePodSandBox: Failed to create pod sandbox: rpc error: code = Unknown desc = ${cni}`,
    );
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.containerStatuses?.[0]?.state.waiting?.reason).toBe(
      'ContainerCreating',
    );
    // The retry (after retryMs) creates it.
    h.kubelet.resyncPods([pod]);
    await h.kubelet.settle();
    expect(h.kubelet.getPodStatus(pod.metadata.uid!)?.phase).toBe('Running');
  });
});
