import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FakeCsiPlugin } from '@nodeagent/testing/csi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiCsiStorageObjects } from '../src/volumes/csi/api-csi-storage-objects';
import type { CsiDrivers } from '../src/volumes/csi/csi-drivers';
import { csiPublishPath } from '../src/volumes/csi/csi-volume-paths';
import { CsiVolumes } from '../src/volumes/csi/csi-volumes';
import { RecordingMounter } from '../src/volumes/mounter';
import { PodVolumeManager } from '../src/volumes/pod-volume-manager';
import { claimPod, createBoundClaim } from './helpers/csi-claims';
import { type CsiKnownDriver, startCsiKnownDriver } from './helpers/csi-known-driver';

const DRIVER = 'sloppy.csi.test';
let known: CsiKnownDriver;
let root: string;
let plugin: FakeCsiPlugin;
let drivers: CsiDrivers;

beforeEach(async () => {
  known = await startCsiKnownDriver({
    driverName: DRIVER,
    csiDriver: { attachRequired: false, volumeLifecycleModes: ['Persistent'] },
    // A driver that answers NodeUnpublishVolume but leaves the volume's files at the target (as
    // one that forgot to unmount would): the kubelet must not remove them with the directory.
    plugin: {
      nodeId: 'node-t',
      mounter: {
        async bind(_source, target) {
          await mkdir(target, { recursive: true });
          await writeFile(join(target, 'precious'), 'data\n');
        },
        async unbind() {},
      },
    },
    dirPrefix: 'na-csi-sloppy',
  });
  ({ root, plugin, drivers } = known);
  await createBoundClaim(known.core, DRIVER, 'data', 'pv-data', 'vol-data');
});

afterEach(async () => {
  await known?.close();
});

describe('CSI teardown never removes what a driver left mounted', () => {
  it("fails the pod's teardown with upstream's words, keeping the files, vol_data.json and the pod directory", async () => {
    const volumes = new PodVolumeManager({
      rootDir: root,
      mounter: new RecordingMounter(),
      csi: new CsiVolumes({
        rootDir: root,
        nodeName: 'node-t',
        drivers,
        objects: apiCsiStorageObjects(known.core, known.storage),
      }),
    });
    await volumes.setUp(claimPod('p', 'uid-p', 'data'), { objects: {} as never });
    const target = csiPublishPath(root, 'uid-p', 'pv-data');
    const error = await volumes.tearDown('uid-p').catch((e: unknown) => e as Error);
    expect(error?.message).toMatch(
      new RegExp(
        `^UnmountVolume\\.TearDown failed for volume "pv-data" : kubernetes\\.io/csi: Unmounter\\.TearDownAt failed to clean mount dir \\[${target}\\]: kubernetes\\.io/csi: failed to remove dir \\[${target}\\]: remove ${target}: directory not empty$`,
      ),
    );
    expect(await readFile(join(target, 'precious'), 'utf8')).toBe('data\n');
    await stat(join(target, '..', 'vol_data.json'));
    // Nothing was unstaged while the pod's volume is still there.
    expect(plugin.calls.filter((c) => c.method.endsWith('/NodeUnstageVolume'))).toEqual([]);
  });
});
