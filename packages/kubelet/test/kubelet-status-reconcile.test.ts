import { afterEach, describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../src/api/pod-types';
import { configSourceAnnotation } from '../src/cri/labels';
import { STATUS_SYNC_PERIOD_MS } from '../src/status/status-manager';
import { type EngineHarness, startEngine, testPod } from './helpers/engine';

const ready = (status: PodStatus | undefined) => status?.conditions?.find((c) => c.type === 'Ready')?.status;

let harness: EngineHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Reconcile periods on the kubelet's clock, each followed by the writes it started. */
async function periods(h: EngineHarness, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await h.clock.advanceAsync(STATUS_SYNC_PERIOD_MS, () => h.kubelet.settle());
  }
}

/** The pod as the API's watch delivers it after a status change: a new resourceVersion. */
function fromApi(pod: Pod, version: number, status: PodStatus): Pod {
  return {
    ...pod,
    metadata: { ...pod.metadata, resourceVersion: String(version) },
    status: structuredClone(status),
  };
}

describe('Kubelet: the status manager reconcile runs on the kubelet clock', () => {
  it("puts its Ready=True back over a client's replace, writes nothing while steady", async () => {
    const h = await startEngine();
    harness = h;
    const pod = { ...testPod(), metadata: { ...testPod().metadata, resourceVersion: '1' } };
    const uid = pod.metadata.uid!;
    h.kubelet.addPod(pod);
    await h.settleThroughRelists();
    const written = h.writer.last(uid)!;
    expect(ready(written)).toBe('True');
    // The watch delivers the kubelet's own write.
    h.kubelet.updatePod(fromApi(pod, 2, written));
    const steady = h.writer.patches.length;
    await periods(h, 3);
    expect(h.writer.patches.length).toBe(steady);

    // A client replaces the status: Ready False and a condition of its own.
    const replaced = structuredClone(written);
    replaced.conditions = replaced.conditions?.map((c) =>
      c.type === 'Ready' ? { ...c, status: 'False' } : c,
    );
    replaced.conditions?.push({ type: 'example.com/gate', status: 'True' });
    h.kubelet.updatePod(fromApi(pod, 3, replaced));
    await periods(h, 1);
    expect(h.writer.patches.length).toBe(steady + 1);
    const putBack = h.writer.last(uid)!;
    expect(ready(putBack)).toBe('True');
    expect(putBack.conditions?.find((c) => c.type === 'example.com/gate')?.status).toBe('True');
    h.kubelet.updatePod(fromApi(pod, 4, putBack));
    // Past the kubelet's resync (syncFrequency 1 min): its sync generates the merged status again.
    await periods(h, 4);
    expect(h.writer.patches.length).toBe(steady + 1);
  });

  it('does not reconcile a static pod against the copy its file source gives', async () => {
    const h = await startEngine();
    harness = h;
    const base = testPod();
    const staticPod: Pod = {
      ...base,
      metadata: {
        ...base.metadata,
        resourceVersion: '1',
        annotations: { [configSourceAnnotation]: 'file' },
      },
    };
    h.kubelet.addPod(staticPod);
    await h.settleThroughRelists();
    const written = h.writer.patches.length;
    expect(ready(h.writer.last(staticPod.metadata.uid!))).toBe('True');
    // The file's copy has no status: a comparison with it would write every period.
    await periods(h, 3);
    expect(h.writer.patches.length).toBe(written);
  });
});
