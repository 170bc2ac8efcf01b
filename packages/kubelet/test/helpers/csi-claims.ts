import type { CoreV1Api } from '@kubernetes/client-node';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import type { Pod } from '../../src/api/pod-types';
import { type Mounter, RecordingMounter } from '../../src/volumes/mounter';
import { busybox } from './engine';

/** A bound claim `name` in default on PersistentVolume `pv` of `driver` with volume handle `handle`. */
export async function createBoundClaim(
  core: CoreV1Api,
  driver: string,
  name: string,
  pv: string,
  handle: string,
): Promise<void> {
  const claim = await core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, volumeName: pv },
    },
  });
  await core.replaceNamespacedPersistentVolumeClaimStatus({
    name,
    namespace: 'default',
    body: { ...claim, status: { phase: 'Bound' } },
  });
  await core.createPersistentVolume({
    body: {
      metadata: { name: pv },
      spec: {
        accessModes: ['ReadWriteOnce'],
        capacity: { storage: '1Mi' },
        claimRef: { namespace: 'default', name, uid: claim.metadata?.uid },
        csi: { driver, volumeHandle: handle },
      },
    },
  });
}

/** A pod whose one container mounts claim `claimName` at /data as volume `data`. */
export function claimPod(name: string, uid: string, claimName: string): Pod {
  return {
    metadata: { name, namespace: 'default', uid, creationTimestamp: new Date().toISOString() },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'c',
          image: busybox,
          command: ['sleep', '3600'],
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }],
    },
  };
}

/**
 * The kubelet's mounter for tests with a FakeCsiPlugin that mounts nothing: tmpfs mounts are
 * recorded, and a path the plugin has staged or published counts as a mount point (the plugin's
 * record stands for the mount table, as its mounter documents).
 */
export function pluginMountTable(plugin: FakeCsiPlugin): Mounter {
  const recording = new RecordingMounter();
  return {
    mountTmpfs: (target, size) => recording.mountTmpfs(target, size),
    unmount: (target) => recording.unmount(target),
    isMountPoint: async (target) =>
      (await recording.isMountPoint(target)) ||
      plugin.published.has(target) ||
      [...plugin.staged.values()].includes(target),
  };
}
