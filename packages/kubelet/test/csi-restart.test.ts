import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Kubelet } from '../src/kubelet';
import { csiPublishPath, csiStagingPath } from '../src/volumes/csi/csi-volume-paths';
import { claimPod, createBoundClaim, pluginMountTable } from './helpers/csi-claims';
import { type CsiEngineHarness, startCsiEngineHarness } from './helpers/csi-engine-harness';
import { DRIVER } from './helpers/csi-node-api-server';
import type { EngineHarness } from './helpers/engine';

let csi: CsiEngineHarness;
let h: EngineHarness;
let plugin: FakeCsiPlugin;
let root: string;

async function settle(kubelet: Kubelet): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await kubelet.settle();
    await kubelet.pleg.relist();
  }
  await kubelet.settle();
}

const methods = (from: number) =>
  plugin.calls
    .slice(from)
    .map((c) => [c.method.split('/').at(-1), c.request] as const)
    .filter(([m]) => m !== 'NodeGetCapabilities' && m !== 'NodeGetInfo');

beforeEach(async () => {
  csi = await startCsiEngineHarness({
    csiDriver: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
    overrides: (started) => ({ mounter: pluginMountTable(started) }),
  });
  ({ h, plugin } = csi);
  root = join(h.dir, 'root');
  await createBoundClaim(csi.core, DRIVER, 'keep', 'pv-keep', 'vol-keep');
  await createBoundClaim(csi.core, DRIVER, 'gone', 'pv-gone', 'vol-gone');
});

afterEach(async () => {
  await csi?.close();
});

describe('CSI volumes across a kubelet restart', () => {
  it('keeps the volumes of pods still there mounted and their containers running; unpublishes and unstages those of pods deleted while it was down', async () => {
    const keep = claimPod('keep', 'uid-keep', 'keep');
    const gone = claimPod('gone', 'uid-gone', 'gone');
    h.kubelet.addPod(keep);
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    expect(h.writer.last('uid-keep')?.phase).toBe('Running');
    expect(h.writer.last('uid-gone')?.phase).toBe('Running');
    const keepTarget = csiPublishPath(root, 'uid-keep', 'pv-keep');
    const goneTarget = csiPublishPath(root, 'uid-gone', 'pv-gone');
    expect([...plugin.published.keys()].sort()).toEqual([goneTarget, keepTarget].sort());
    const keepContainers = async () =>
      (await h.client.listContainers({})).containers
        .filter((c) => c.labels['io.kubernetes.pod.uid'] === 'uid-keep')
        .map((c) => [c.id, c.state]);
    const containersBefore = await keepContainers();
    expect(containersBefore).toHaveLength(1);

    // The kubelet goes down with both pods running; `gone` is deleted meanwhile.
    await h.kubelet.stop();
    const before = plugin.calls.length;
    const next = await h.restart();
    await csi.registered(next, 2);
    // Reconstructed from disk: both volumes are still reported in use before any pod is synced.
    expect(next.volumes.volumesInUse()).toEqual([
      `kubernetes.io/csi/${DRIVER}^vol-gone`,
      `kubernetes.io/csi/${DRIVER}^vol-keep`,
    ]);
    next.addPod(keep);
    await settle(next);
    // Nothing is torn down before the sources are ready.
    expect(methods(before).filter(([m]) => m === 'NodeUnpublishVolume')).toEqual([]);
    await next.markSourcesReady();
    await settle(next);

    const after = methods(before);
    // The deleted pod's volume: unpublished, then unstaged, and its directory gone.
    expect(after.filter(([m]) => m === 'NodeUnpublishVolume' || m === 'NodeUnstageVolume')).toEqual([
      ['NodeUnpublishVolume', { target_path: goneTarget, volume_id: 'vol-gone' }],
      [
        'NodeUnstageVolume',
        { staging_target_path: csiStagingPath(root, DRIVER, 'vol-gone'), volume_id: 'vol-gone' },
      ],
    ]);
    await expect(
      stat(join(root, 'pods', 'uid-gone', 'volumes', 'kubernetes.io~csi', 'pv-gone')),
    ).rejects.toThrow(/ENOENT/);
    // The pod still there: never unpublished or unstaged; staged and published again as upstream
    // does with a reconstructed (uncertain) volume, which the driver takes as a no-op.
    expect(after.filter(([, r]) => JSON.stringify(r).includes('vol-keep')).map(([m]) => m)).toEqual([
      'NodeStageVolume',
      'NodePublishVolume',
    ]);
    expect([...plugin.published.keys()]).toEqual([keepTarget]);
    expect([...plugin.staged.keys()]).toEqual(['vol-keep']);
    expect(next.volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${DRIVER}^vol-keep`]);
    // Its container kept running: the same one as before the restart.
    expect(await keepContainers()).toEqual(containersBefore);
    expect(next.getPodStatus('uid-keep')?.phase).toBe('Running');
    expect(await readdir(join(root, 'pods', 'uid-keep', 'volumes', 'kubernetes.io~csi'))).toEqual([
      'pv-keep',
    ]);

    // The deleted pod's directory stays while the runtime still has the pod (upstream's
    // cleanupOrphanedPodDirs counts runtime pods as known); once its sandbox is gone, it goes.
    await stat(join(root, 'pods', 'uid-gone'));
    const { items } = await h.client.listPodSandbox({});
    for (const sandbox of items.filter((s) => s.metadata?.uid === 'uid-gone')) {
      await h.client.stopPodSandbox({ podSandboxId: sandbox.id });
      await h.client.removePodSandbox({ podSandboxId: sandbox.id });
    }
    await next.pleg.relist();
    await next.markSourcesReady();
    await expect(stat(join(root, 'pods', 'uid-gone'))).rejects.toThrow(/ENOENT/);
    await stat(join(root, 'pods', 'uid-keep'));
    expect(
      await next.metrics.registry.getSingleMetricAsString('kubelet_orphan_pod_cleaned_volumes'),
    ).toContain('kubelet_orphan_pod_cleaned_volumes 1');
  });

  it('unpublishes a volume that could not be reconstructed (its mount is gone) when its pod is gone, without unstaging it', async () => {
    const gone = claimPod('gone', 'uid-gone', 'gone');
    h.kubelet.addPod(gone);
    await h.settleThroughRelists();
    await h.kubelet.stop();
    // The mount went away while the kubelet was down (the plugin forgets it was published).
    plugin.published.clear();
    const before = plugin.calls.length;
    const next = await h.restart();
    await csi.registered(next, 2);
    expect(next.volumes.volumesInUse()).toEqual([]);
    await next.markSourcesReady();
    expect(methods(before).map(([m]) => m)).toEqual(['NodeUnpublishVolume']);
    expect([...plugin.staged.keys()]).toEqual(['vol-gone']);
  });
});
