import { afterEach, describe, expect, it } from 'vitest';
import { configSourceAnnotation } from '../src/api/config-source';
import type { Pod, PodStatus } from '../src/api/pod-types';
import { mirrorPodFor } from '../src/sources/api-clients';
import { staticPodDefaults } from '../src/sources/static-pod-source';
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

  describe('a static pod is reconciled against its mirror pod', () => {
    /** A static pod from a manifest, running, and its first status written (by name, to its mirror pod). */
    async function runningStaticPod(h: EngineHarness): Promise<{ pod: Pod; written: PodStatus }> {
      const pod = staticPodDefaults(testPod(), 'node-a', '/etc/kubernetes/manifests/web.yaml', 'now');
      h.kubelet.addPod(pod);
      await h.settleThroughRelists();
      const written = h.writer.last(pod.metadata.uid!)!;
      expect(ready(written)).toBe('True');
      return { pod, written };
    }

    /** The mirror pod as the API source delivers it: its own uid, a resourceVersion and `status`. */
    function mirrorPod(pod: Pod, version: number, status: PodStatus, hash?: string): Pod {
      const mirror = mirrorPodFor(pod, { name: 'node-a' });
      mirror.metadata.uid = `mirror-of-${pod.metadata.uid}`;
      mirror.metadata.resourceVersion = String(version);
      if (hash !== undefined)
        mirror.metadata.annotations = { ...mirror.metadata.annotations, 'kubernetes.io/config.mirror': hash };
      return { ...mirror, status: structuredClone(status) };
    }

    function replacedReady(status: PodStatus): PodStatus {
      const replaced = structuredClone(status);
      replaced.conditions = replaced.conditions?.map((c) =>
        c.type === 'Ready' ? { ...c, status: 'False' } : c,
      );
      return replaced;
    }

    it("puts its Ready=True back over a client's replace on the mirror pod, writes nothing while equal", async () => {
      const h = await startEngine();
      harness = h;
      const { pod, written } = await runningStaticPod(h);
      const uid = pod.metadata.uid!;
      // The watch delivers the mirror pod holding the kubelet's own write.
      h.kubelet.mirrorPods.set(mirrorPod(pod, 2, written));
      const steady = h.writer.patches.length;
      await periods(h, 5);
      expect(h.writer.patches.length).toBe(steady);

      // A client replaces the mirror pod's status: Ready False.
      h.kubelet.mirrorPods.set(mirrorPod(pod, 3, replacedReady(written)));
      await periods(h, 1);
      expect(h.writer.patches.length).toBe(steady + 1);
      // The write is the static pod's (the writer patches its mirror pod by name).
      const putBack = h.writer.patches.at(-1)!;
      expect(putBack.uid).toBe(uid);
      expect(ready(putBack.status)).toBe('True');
      h.kubelet.mirrorPods.set(mirrorPod(pod, 4, putBack.status));
      await periods(h, 5);
      expect(h.writer.patches.length).toBe(steady + 1);
    });

    it('does not use a mirror pod of another hash, nor one being deleted', async () => {
      const h = await startEngine();
      harness = h;
      const { pod, written } = await runningStaticPod(h);
      const steady = h.writer.patches.length;
      // A mirror pod of an earlier version of the manifest, showing Ready False: not this pod's.
      h.kubelet.mirrorPods.set(mirrorPod(pod, 2, replacedReady(written), 'hash-of-an-older-manifest'));
      await periods(h, 3);
      expect(h.writer.patches.length).toBe(steady);
      const deleting = mirrorPod(pod, 3, replacedReady(written));
      deleting.metadata.deletionTimestamp = new Date(h.clock.now()).toISOString();
      h.kubelet.mirrorPods.set(deleting);
      await periods(h, 3);
      expect(h.writer.patches.length).toBe(steady);
      // Its own mirror pod, with the same replaced status, is reconciled.
      h.kubelet.mirrorPods.set(mirrorPod(pod, 4, replacedReady(written)));
      await periods(h, 1);
      expect(h.writer.patches.length).toBe(steady + 1);
      expect(ready(h.writer.last(pod.metadata.uid!))).toBe('True');
    });

    it("keeps the conditions others own on the mirror pod in each write, from the pod's first", async () => {
      const h = await startEngine();
      harness = h;
      const pod = staticPodDefaults(testPod(), 'node-a', '/etc/kubernetes/manifests/gated.yaml', 'now');
      const uid = pod.metadata.uid!;
      const gate = (status: PodStatus | undefined) =>
        status?.conditions?.find((c) => c.type === 'example.com/gate')?.status;
      // The mirror pod is there before the static pod's first sync (a kubelet restart), a
      // controller's condition on it: as upstream, the static pod's status starts from it.
      h.kubelet.mirrorPods.set(
        mirrorPod(pod, 2, { conditions: [{ type: 'example.com/gate', status: 'True' }] }),
      );
      h.kubelet.addPod(pod);
      await h.settleThroughRelists();
      const first = h.writer.last(uid)!;
      expect(ready(first)).toBe('True');
      expect(gate(first)).toBe('True');
      h.kubelet.mirrorPods.set(mirrorPod(pod, 3, first));
      // The controller turns its condition False; then the container exits and is restarted.
      const flipped = structuredClone(first);
      flipped.conditions = flipped.conditions?.map((c) =>
        c.type === 'example.com/gate' ? { ...c, status: 'False' } : c,
      );
      h.kubelet.mirrorPods.set(mirrorPod(pod, 4, flipped));
      const before = h.writer.patches.length;
      const { containers } = await h.client.listContainers({});
      h.fake.exitContainer(containers[0]!.id, 1);
      await h.settleThroughRelists();
      expect(h.writer.patches.length).toBeGreaterThan(before);
      const afterRestart = h.writer.last(uid)!;
      expect(afterRestart.containerStatuses?.[0]?.restartCount).toBe(1);
      expect(gate(afterRestart)).toBe('False');
    });

    it('never runs a mirror pod handed to it as a pod: no sandbox, no worker, only held', async () => {
      const h = await startEngine();
      harness = h;
      const { pod, written } = await runningStaticPod(h);
      const mirror = mirrorPod(pod, 2, replacedReady(written));
      h.kubelet.addPod(mirror);
      h.kubelet.updatePod({ ...mirror, metadata: { ...mirror.metadata, resourceVersion: '3' } });
      await h.settleThroughRelists();
      const { items } = await h.client.listPodSandbox({});
      expect(items.map((s) => s.metadata?.uid)).toEqual([pod.metadata.uid]);
      expect(h.kubelet.getPod(mirror.metadata.uid!)).toBeUndefined();
      expect(h.kubelet.mirrorPods.of(pod)?.metadata.resourceVersion).toBe('3');
      // Held as the static pod's API copy: its Ready False is put back at the next check.
      const before = h.writer.patches.length;
      await periods(h, 1);
      expect(h.writer.patches.length).toBe(before + 1);
      h.kubelet.removePod(mirror);
      expect(h.kubelet.mirrorPods.of(pod)).toBeUndefined();
      expect(h.kubelet.getPods().map((p) => p.metadata.uid)).toEqual([pod.metadata.uid]);
    });
  });
});
