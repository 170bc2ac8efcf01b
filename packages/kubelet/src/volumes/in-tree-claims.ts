import { lstat, mkdir, readlink, rm, rmdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HostPathType, Pod } from '../api/pod-types';
import type { MountedVolume } from '../cri/container-config';
import type { ObjectSource } from '../env/resolve-env';
import { podVolumeDevicesDir } from '../pod-dirs';
import { CsiVolumeOperationError } from './csi/csi-operation-error';
import type { InTreeClaim } from './csi/csi-volumes';
import { type FlexVolumeSpec, type FlexVolumes, flexPluginDirectory } from './flex/flex-volumes';
import { podFSGroup, setVolumeOwnership } from './fs-group';
import { checkHostPath } from './host-path';
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
    return mapLocal(pod, spec.local.path, pvName, readOnly, host);
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
  return setUpLocal(pod, spec.local?.path ?? '', pvName, readOnly, mountOptionsFromPV(pv), host);
}

/**
 * Upstream's local volume SetUpAt: the path bind-mounted on the pod's volume directory (read-only
 * for a read-only claim), once; the pod's fsGroup applied when it is writable.
 */
async function setUpLocal(
  pod: Pod,
  path: string,
  pvName: string,
  readOnly: boolean,
  mountOptions: string[],
  host: InTreeClaimHost,
): Promise<MountedVolume> {
  if (path === '') throw new Error(`LocalVolume volume ${JSON.stringify(pvName)} path is empty`);
  const dir = host.volumeDir(volumePluginDirs.local, pvName);
  if (await host.mounter.isMountPoint(dir)) return { hostPath: dir, readOnly };
  if (!host.mounter.bindMount)
    throw new Error(
      `local volume ${JSON.stringify(pvName)} needs a bind mount, which this kubelet's mounter does not make`,
    );
  await mkdir(dir, { recursive: true, mode: 0o750 });
  try {
    await host.mounter.bindMount(path, dir, readOnly, mountOptions);
  } catch (error) {
    await rmdir(dir).catch(() => undefined);
    throw error;
  }
  const fsGroup = podFSGroup(pod);
  if (!readOnly && fsGroup) await setVolumeOwnership(dir, fsGroup.fsGroup, { policy: fsGroup.policy });
  return { hostPath: dir, readOnly };
}

/**
 * Upstream's local BlockVolumeMapper with MapBlockVolume: the PersistentVolume's path (a block
 * device) linked at `pods/<uid>/volumeDevices/kubernetes.io~local-volume/<pv>`, which the runtime
 * gets as the container's device (CRI Device; it resolves the link). Upstream also bind-mounts
 * the device under `plugins/kubernetes.io~local-volume/volumeDevices/<pv>/<pod uid>` and holds it
 * open through a loop device, as for CSI block volumes (csi-block-volumes.ts); this kubelet skips
 * that lock. The link goes with the pod's directory.
 */
async function mapLocal(
  pod: Pod,
  path: string,
  pvName: string,
  readOnly: boolean,
  host: InTreeClaimHost,
): Promise<MountedVolume> {
  if (path === '') throw new Error(`LocalVolume volume ${JSON.stringify(pvName)} path is empty`);
  const link = join(
    podVolumeDevicesDir(host.rootDir, pod.metadata.uid ?? ''),
    volumePluginDirs.local,
    pvName,
  );
  if (!(await lstat(path).catch(() => undefined)))
    throw new CsiVolumeOperationError(
      'MapVolume.MapBlockVolume',
      pvName,
      `blkUtil.MapDevice failed. devicePath: ${path}, globalMapPath:${localGlobalMapPath(host.rootDir, pvName)}, podUID: ${pod.metadata.uid ?? ''}, bindMount: true: stat ${path}: no such file or directory`,
      false,
    );
  if ((await readlink(link).catch(() => undefined)) !== path) {
    await mkdir(dirname(link), { recursive: true, mode: 0o750 });
    await rm(link, { force: true });
    await symlink(path, link);
  }
  return { hostPath: link, readOnly, block: true };
}

/** Upstream's local GetGlobalMapPath: `plugins/kubernetes.io~local-volume/volumeDevices/<pv>`. */
function localGlobalMapPath(rootDir: string, pvName: string): string {
  return join(rootDir, 'plugins', volumePluginDirs.local, 'volumeDevices', pvName);
}
