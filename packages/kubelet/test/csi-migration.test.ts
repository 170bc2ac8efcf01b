import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { csiStagingPath } from '../src/volumes/csi/csi-volume-paths';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import {
  type CsiVolumeHarness,
  NODE,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';
import { busybox } from './helpers/engine';

const EBS = 'ebs.csi.aws.com';
const GCE = 'pd.csi.storage.gke.io';

let harness: CsiVolumeHarness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

function podWith(uid: string, volume: Record<string, unknown>): Pod {
  return {
    metadata: { name: uid, namespace: 'default', uid, creationTimestamp: new Date().toISOString() },
    spec: {
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', ...volume }],
    },
  } as Pod;
}

/** A claim bound to an in-tree PersistentVolume, as a cluster older than CSI migration left it. */
async function inTreeClaim(h: CsiVolumeHarness, pv: string, source: Record<string, unknown>): Promise<void> {
  const claim = await h.core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: pv },
    },
  });
  await h.core.replaceNamespacedPersistentVolumeClaimStatus({
    name: 'data',
    namespace: 'default',
    body: { ...claim, status: { phase: 'Bound', capacity: { storage: '1Gi' } } },
  });
  await h.core.createPersistentVolume({
    body: {
      metadata: { name: pv },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '1Gi' },
        claimRef: { namespace: 'default', name: 'data', uid: claim.metadata?.uid },
        ...source,
      },
    },
  });
}

function calls(h: CsiVolumeHarness, rpc: string) {
  return h.plugin.calls
    .filter((c) => c.method.endsWith(`/${rpc}`))
    .map((c) => c.request as Record<string, unknown>);
}

describe('in-tree volumes served by their CSI drivers (CSI migration, GA in v1.36)', () => {
  it("mounts a claim bound to an awsElasticBlockStore PersistentVolume through ebs.csi.aws.com, under the PV's name", async () => {
    harness = await startCsiVolumeHarness({ driverName: EBS, csiDriver: { attachRequired: false } });
    const h = harness;
    await inTreeClaim(h, 'pv-ebs', {
      awsElasticBlockStore: { volumeID: 'aws://eu-west-1a/vol-0123', fsType: 'xfs' },
    });
    const pod = podWith('uid-ebs', { persistentVolumeClaim: { claimName: 'data' } });
    const mounted = await h.volumes.setUp(pod, { objects: {} as never });
    const target = join(h.root, 'pods', 'uid-ebs', 'volumes', 'kubernetes.io~csi', 'pv-ebs', 'mount');
    expect(mounted.get('data')).toEqual({ hostPath: target, readOnly: false });
    expect(h.plugin.staged.get('vol-0123')).toBe(csiStagingPath(h.root, EBS, 'vol-0123'));
    const [stage] = calls(h, 'NodeStageVolume');
    expect(stage).toMatchObject({
      volume_id: 'vol-0123',
      volume_capability: { mount: { fs_type: 'xfs' }, access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' } },
      volume_context: { partition: '0' },
    });
    expect(h.plugin.published.get(target)).toBe('vol-0123');
    // The attach/detach controller and node.status.volumesInUse name it as the CSI volume it became.
    expect(h.volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${EBS}^vol-0123`]);
    await h.volumes.tearDown('uid-ebs');
    expect(h.plugin.published.size).toBe(0);
    expect(h.plugin.staged.size).toBe(0);
  });

  it('mounts an inline gcePersistentDisk through pd.csi.storage.gke.io as the translated PersistentVolume', async () => {
    harness = await startCsiVolumeHarness({ driverName: GCE, csiDriver: { attachRequired: false } });
    const h = harness;
    const pod = podWith('uid-gce', {
      gcePersistentDisk: { pdName: 'disk-1', fsType: 'ext4', readOnly: true },
    });
    const mounted = await h.volumes.setUp(pod, { objects: {} as never });
    const handle = 'projects/UNSPECIFIED/zones/UNSPECIFIED/disks/disk-1';
    const target = join(h.root, 'pods', 'uid-gce', 'volumes', 'kubernetes.io~csi', `${GCE}-disk-1`, 'mount');
    expect(mounted.get('data')).toEqual({ hostPath: target, readOnly: true });
    expect(h.plugin.staged.get(handle)).toBe(csiStagingPath(h.root, GCE, handle));
    const [publish] = calls(h, 'NodePublishVolume');
    expect(publish).toMatchObject({
      volume_id: handle,
      readonly: true,
      volume_capability: { mount: { fs_type: 'ext4' }, access_mode: { mode: 'MULTI_NODE_READER_ONLY' } },
      volume_context: { partition: '' },
    });
    expect(h.volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${GCE}^${handle}`]);
    await h.volumes.tearDown('uid-gce');
    expect(h.plugin.published.size).toBe(0);
    expect(h.plugin.staged.size).toBe(0);
  });

  it('waits for the attach/detach controller to attach an in-tree volume of a driver that needs attaching', async () => {
    harness = await startCsiVolumeHarness({ driverName: EBS, csiDriver: { attachRequired: true } });
    const h = harness;
    await h.core.readNode({ name: NODE });
    const pod = podWith('uid-attach', { awsElasticBlockStore: { volumeID: 'vol-0456' } });
    const waiting = await setUpFailure(h.volumes, pod);
    expect(waiting.events).toEqual([]);
    expect(calls(h, 'NodeStageVolume')).toEqual([]);
    // Reported in use under its CSI name, for the controller to attach.
    expect(h.volumes.volumesInUse()).toEqual([`kubernetes.io/csi/${EBS}^vol-0456`]);
  });

  it('names the driver that is missing when an in-tree volume has no CSI driver here', async () => {
    harness = await startCsiVolumeHarness({ csiDriver: { attachRequired: false } });
    await harness.storage.createCSIDriver({
      body: { metadata: { name: 'disk.csi.azure.com' }, spec: { attachRequired: false } },
    });
    const pod = podWith('uid-no-driver', {
      azureDisk: {
        diskName: 'd',
        diskURI: '/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d',
        kind: 'Managed',
      },
    });
    const failure = await setUpFailure(harness.volumes, pod);
    expect(failure.events.join('\n')).toContain(
      'driver name disk.csi.azure.com not found in the list of registered CSI drivers',
    );
  });

  it('keeps an inline in-tree volume waiting for an attachment, as before, where CSI volumes are not set up', async () => {
    harness = await startCsiVolumeHarness();
    const volumes = new PodVolumeManager({ rootDir: harness.root });
    const failure = await setUpFailure(
      volumes,
      podWith('uid-no-csi', { gcePersistentDisk: { pdName: 'disk-1' } }),
    );
    expect(failure.events).toEqual([]);
    expect(failure.message).toContain('volumes not mounted: [data]');
    expect(harness.plugin.calls.filter((c) => !c.method.endsWith('/NodeGetInfo'))).toEqual([]);
  });
});
