import { mkdir } from 'node:fs/promises';
import type { HostPathType, Pod } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import type { ObjectSource } from '../env/resolve-env';
import { CsiVolumeOperationError } from './csi/csi-operation-error';
import type { InTreeClaim } from './csi/csi-volumes';
import { type FlexVolumeSpec, type FlexVolumes, flexPluginDirectory } from './flex/flex-volumes';
import { checkHostPath } from './host-path';
import { mapLocal, setUpLocal } from './local-volumes';
import { mountOptionsFromPV } from './mount-options';
import type { Mounter } from './mounter';
import { mountNfs, type NfsMounter } from './nfs-mount';
import { volumePluginDirs } from './volume-plugin-dirs';

/** What setting up an in-tree claim needs: where its directory goes and how to mount. */
export interface InTreeClaimHost {
  /** --root-dir: block volumes are linked under the pod's `volumeDevices`. */
  rootDir: string;
  /** `<rootDir>/pods/<uid>/volumes/<plugin>/<name>` for the pod. */
  volumeDir(plugin: string, name: string): string;
  mounter: Mounter;
  nfs: NfsMounter;
  /** The FlexVolume drivers (volumePluginDir); none: a flexVolume PersistentVolume matches no plugin. */
  flex?: FlexVolumes;
  /** Where a FlexVolume's secretRef is read. */
  objects: ObjectSource;
}

/**
 * A claim bound to a PersistentVolume of upstream's in-tree hostPath, local, nfs or FlexVolume plugin, set
 * up as those plugins' SetUp does; read-only as the pod's claim is (the plugins read
 * spec.ReadOnly, not the source's own field), with the PersistentVolume's mount options where the
 * plugin takes them (local, nfs). A failure is the FailedMount text naming the PersistentVolume:
 * `MountVolume.SetUp failed for volume "<pv>" : …`.
 */
export async function setUpInTreeClaim(
  pod: Pod,
  claim: InTreeClaim,
  host: InTreeClaimHost,
): Promise<MountedVolume> {
  // Upstream's checkMountOptionSupport, before the set-up: the hostPath and FlexVolume plugins take no mount options.
  const { hostPath, flexVolume } = claim.pv.spec ?? {};
  if ((hostPath || flexVolume) && mountOptionsFromPV(claim.pv).length > 0)
    throw new CsiVolumeOperationError(
      'MountVolume.MountOptionSupport check',
      claim.pvName,
      'Mount options are not supported for this volume type',
      false,
    );
  try {
    return await setUp(pod, claim, host);
  } catch (error) {
    // The block mapping's failures carry their own MapVolume operation.
    if (error instanceof CsiVolumeOperationError) throw error;
    throw new CsiVolumeOperationError('MountVolume.SetUp', claim.pvName, (error as Error).message, false, {
      cause: error,
    });
  }
}

async function setUp(
  pod: Pod,
  { pv, pvName, readOnly }: InTreeClaim,
  host: InTreeClaimHost,
): Promise<MountedVolume> {
  const spec = pv.spec ?? {};
  if (spec.volumeMode === 'Block') {
    // Of these plugins only local maps block volumes (upstream's BlockVolumePlugin).
    if (!spec.local)
      throw new Error(
        'MapVolume.FindMapperPluginBySpec failed to find BlockVolumeMapper plugin. Volume plugin is nil.',
      );
    return mapLocal(pod, { pv, pvName, readOnly, path: spec.local.path }, host);
  }
  // hostPath: the node's path itself goes to the containers, after the type check.
  if (spec.hostPath) {
    await checkHostPath(spec.hostPath.path, (spec.hostPath.type ?? '') as HostPathType, 'hostPath.path');
    return { hostPath: spec.hostPath.path, readOnly };
  }
  if (spec.flexVolume) {
    const flex: FlexVolumeSpec = { name: pvName, source: spec.flexVolume, readOnly };
    // FlexVolumes.setUp refuses a driver not installed with the same words.
    if (!host.flex)
      throw new Error(`no volume plugin matched for flexVolume driver ${JSON.stringify(flex.source.driver)}`);
    const dir = host.volumeDir(flexPluginDirectory(flex.source.driver), pvName);
    await host.flex.setUp(pod, flex, dir, host.objects);
    return { hostPath: dir, readOnly };
  }
  if (spec.nfs) {
    const dir = host.volumeDir(volumePluginDirs.nfs, pvName);
    await mkdir(dir, { recursive: true, mode: 0o750 });
    if (!(await host.mounter.isMountPoint(dir)))
      await mountNfs(
        host.nfs,
        { server: spec.nfs.server, path: spec.nfs.path, readOnly },
        dir,
        mountOptionsFromPV(pv),
      );
    return { hostPath: dir, readOnly };
  }
  return setUpLocal(pod, { pv, pvName, readOnly }, host);
}
