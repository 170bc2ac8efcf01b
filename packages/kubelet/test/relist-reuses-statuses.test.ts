import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

let h: EngineHarness;
beforeEach(async () => {
  h = await startEngine();
});
afterEach(async () => {
  await h.close();
});

/**
 * A steady node's relist builds nothing again (issue 35): the CRI client shares unchanged list
 * items and criPodRuntime their converted statuses, so the PLEG cache holds the very same
 * sandbox and container objects from one relist to the next, until the runtime reports a change.
 */
describe('relist of an unchanged node', () => {
  it('keeps the same pod record, cache entry, sandbox and container status objects, and builds new ones for a change', async () => {
    const pod = testPod();
    const uid = pod.metadata.uid!;
    h.kubelet.addPod(pod);
    await h.kubelet.settle();
    await h.kubelet.pleg.relist();
    await h.kubelet.settle();
    await h.kubelet.pleg.relist();
    const before = h.kubelet.runtimeStatus(uid)!;
    expect(before.containers[0]?.state).toBe('running');
    await h.kubelet.pleg.relist();
    const after = h.kubelet.runtimeStatus(uid)!;
    expect(after.containers[0]).toBe(before.containers[0]);
    expect(after.sandboxes[0]).toBe(before.sandboxes[0]);
    // The pod's record and its cache entry too: a relist a second later drops nothing V8 promoted.
    expect(after).toBe(before);
    const entry = h.kubelet.cache.get(uid)!;
    await h.kubelet.pleg.relist();
    expect(h.kubelet.cache.get(uid)).toBe(entry);
    expect(entry.status).toBe(before);

    h.fake.exitContainer(before.containers[0]!.id, 3);
    await h.kubelet.pleg.relist();
    const exited = h.kubelet.runtimeStatus(uid)!.containers.find((c) => c.id === before.containers[0]!.id);
    expect(exited).not.toBe(before.containers[0]);
    expect(exited).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(h.kubelet.runtimeStatus(uid)).not.toBe(before);
    expect(h.kubelet.cache.get(uid)).not.toBe(entry);
  });
});
