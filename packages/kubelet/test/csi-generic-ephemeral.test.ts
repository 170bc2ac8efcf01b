import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { ephemeralVolumeControllerOnly } from './helpers/csi-node-api-server';
import {
  bindClaim,
  type CsiVolumeHarness,
  DRIVER,
  setUpFailure,
  startCsiVolumeHarness,
} from './helpers/csi-volume-harness';

let h: CsiVolumeHarness;

beforeEach(async () => {
  h = await startCsiVolumeHarness({
    csiDriver: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
    server: ephemeralVolumeControllerOnly,
  });
});

afterEach(async () => {
  await h.close();
});

const ephemeralPod = (name: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    nodeName: 'node-a',
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
    volumes: [
      {
        name: 'scratch',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: { app: 'demo' } },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
          },
        },
      },
    ],
  },
});

describe('generic ephemeral volumes', () => {
  it("mounts the pod's own <pod>-<volume> claim, made by the ephemeral volume controller, through the CSI driver", async () => {
    const pod = (await h.core.createNamespacedPod({
      namespace: 'default',
      body: ephemeralPod('web'),
    })) as unknown as Pod;
    // Before the claim exists the pod waits with upstream's populator error.
    const early = await setUpFailure(h.volumes, {
      ...pod,
      metadata: { ...pod.metadata, name: 'not-yet', uid: 'uid-not-yet' },
    });
    expect(early.events).toEqual([
      'MountVolume.SetUp failed for volume "scratch" : error processing PVC default/not-yet-scratch: failed to fetch PVC from API server: persistentvolumeclaims "not-yet-scratch" not found',
    ]);

    await h.server.controlPlane?.settled();
    const claim = await h.core.readNamespacedPersistentVolumeClaim({
      name: 'web-scratch',
      namespace: 'default',
    });
    expect(claim.metadata?.labels).toEqual({ app: 'demo' });
    expect(claim.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'web',
        uid: pod.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(claim.spec?.resources?.requests).toEqual({ storage: '1Mi' });

    await bindClaim(h.core, 'default', 'web-scratch', { name: 'pv-web', volumeHandle: 'vol-web' });
    const mounted = await h.volumes.setUp(pod, { objects: {} as never });
    const target = join(
      h.root,
      'pods',
      pod.metadata.uid as string,
      'volumes',
      'kubernetes.io~csi',
      'pv-web',
      'mount',
    );
    expect(mounted.get('scratch')).toEqual({ hostPath: target, readOnly: false });
    expect(h.plugin.published.get(target)).toBe('vol-web');
    expect(h.csiVolumes.volumesInUse()).toEqual([`kubernetes.io/csi/${DRIVER}^vol-web`]);
    await h.volumes.tearDown(pod.metadata.uid as string);
    expect(h.plugin.published.size).toBe(0);
    expect(h.plugin.staged.size).toBe(0);
  });

  it("refuses a claim of that name the pod does not own, in upstream's words, and the controller reports the conflict", async () => {
    await h.core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: {
        metadata: { name: 'db-scratch' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
      },
    });
    await bindClaim(h.core, 'default', 'db-scratch', { name: 'pv-other', volumeHandle: 'vol-other' });
    const pod = (await h.core.createNamespacedPod({
      namespace: 'default',
      body: ephemeralPod('db'),
    })) as unknown as Pod;
    await h.server.controlPlane?.settled();

    const error = await setUpFailure(h.volumes, pod);
    expect(error.events).toEqual([
      'MountVolume.SetUp failed for volume "scratch" : PVC default/db-scratch was not created for pod default/db (pod is not owner)',
    ]);
    expect(h.plugin.published.size).toBe(0);
    expect(h.plugin.staged.size).toBe(0);
    const events = await h.core.listNamespacedEvent({ namespace: 'default' });
    expect(
      events.items
        .filter((e) => e.involvedObject.name === 'db')
        .map((e) => [e.type, e.reason, e.message, e.source?.component]),
    ).toEqual([
      [
        'Warning',
        'FailedBinding',
        'ephemeral volume scratch: PVC default/db-scratch was not created for pod default/db (pod is not owner)',
        'ephemeral_volume',
      ],
    ]);
  });
});
