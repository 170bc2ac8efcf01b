import { afterEach, describe, expect, it, vi } from 'vitest';
import { AllocationCheckpoint } from '../src/pod/allocation-checkpoint';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

/** A save of the allocation checkpoint held until the test lets it finish (or fail). */
function holdCheckpointSaves() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const held = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const save = vi.spyOn(AllocationCheckpoint.prototype, 'save').mockImplementation(() => held);
  return { save, finish, fail };
}

describe("a new pod's start and the write of its allocation checkpoint", () => {
  let engine: EngineHarness | undefined;
  let hold: ReturnType<typeof holdCheckpointSaves> | undefined;
  afterEach(async () => {
    // A held write would keep the workers (and so the Kubelet's stop) waiting.
    hold?.finish();
    hold = undefined;
    vi.restoreAllMocks();
    await engine?.close();
    engine = undefined;
  });

  it('creates the sandbox while the allocation is written, and no container before it is written', async () => {
    engine = await startEngine();
    const { fake, kubelet, writer } = engine;
    const held = holdCheckpointSaves();
    hold = held;
    const pod = testPod();
    kubelet.addPod(pod);

    // The first sync makes the sandbox (and reads it back) with the write still under way.
    await vi.waitFor(() => expect(fake.calls).toContain('PodSandboxStatus'), { timeout: 60_000 });
    expect(held.save).toHaveBeenCalled();
    expect(kubelet.resizer.allocationWritten(pod.metadata.uid ?? '')).toBeDefined();
    // Time for a sync that did not wait to go on to CreateContainer on the fake runtime.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(fake.calls).not.toContain('CreateContainer');

    held.finish();
    await kubelet.settle();
    expect(fake.calls).toContain('CreateContainer');
    expect(fake.calls).toContain('StartContainer');
    expect(writer.last(pod.metadata.uid ?? '')?.phase).toBe('Running');
    expect(kubelet.resizer.allocationWritten(pod.metadata.uid ?? '')).toBeUndefined();
  });

  it('fails the sync without creating a container when the write fails', async () => {
    engine = await startEngine();
    const { fake, kubelet } = engine;
    const held = holdCheckpointSaves();
    hold = held;
    const pod = testPod();
    kubelet.addPod(pod);
    await vi.waitFor(() => expect(fake.calls).toContain('RunPodSandbox'), { timeout: 60_000 });

    held.fail(new Error('no space left on device'));
    await kubelet.settle();
    expect(fake.calls).not.toContain('CreateContainer');
    expect(kubelet.resizer.allocationWritten(pod.metadata.uid ?? '')).toBeUndefined();
  });
});
