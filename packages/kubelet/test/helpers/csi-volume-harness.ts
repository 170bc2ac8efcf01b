import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthenticationV1Api,
  type CoreV1Api,
  type StorageV1Api,
  type V1CSIDriverSpec,
  type V1PersistentVolumeSpec,
} from '@kubernetes/client-node';
import { systemClock } from '@nodeagent/primitives';
import type { ApiServer, ApiServerOptions } from '@nodeagent/testing';
import {
  type DriverRegistrar,
  FakeCsiPlugin,
  type FakeCsiPluginOptions,
  startDriverRegistrar,
} from '@nodeagent/testing/csi';
import type { Pod } from '../../src/api/pod-types';
import type { PodEventRecorder } from '../../src/events/event-reasons';
import { CSI_PLUGIN } from '../../src/pluginmanager/plugin-handler';
import { PluginManager } from '../../src/pluginmanager/plugin-manager';
import { apiCsiNodeInfo } from '../../src/volumes/csi/api-csi-node-info';
import { apiCsiStorageObjects } from '../../src/volumes/csi/api-csi-storage-objects';
import { CsiDrivers } from '../../src/volumes/csi/csi-drivers';
import { CsiRegistrationHandler } from '../../src/volumes/csi/csi-registration-handler';
import { CsiVolumes, type CsiVolumesOptions } from '../../src/volumes/csi/csi-volumes';
import { RecordingMounter } from '../../src/volumes/mounter';
import type { NfsMounter } from '../../src/volumes/nfs-mount';
import { PodVolumeManager } from '../../src/volumes/pod-volume-manager';
import { PodVolumesNotReadyError } from '../../src/volumes/volumes-not-ready';
import { DRIVER, NODE, startCsiNodeApiServer } from './csi-node-api-server';
import { waitFor } from './wait-for';

export { DRIVER, NODE };

const quiet = { info() {}, warn() {}, error() {} };

/** A registered FakeCsiPlugin, the in-process API server and the kubelet's CSI volumes over them. */
export interface CsiVolumeHarness {
  server: ApiServer;
  core: CoreV1Api;
  storage: StorageV1Api;
  root: string;
  plugin: FakeCsiPlugin;
  csiVolumes: CsiVolumes;
  volumes: PodVolumeManager;
  /** The volume manager's mounter: what it mounted (tmpfs, binds), recorded. */
  mounter: RecordingMounter;
  /** Pod events the CSI volumes recorded, as `reason: message`. */
  events: string[];
  /** A new volume manager (with its CSI volumes) on the same root, driver and mounts: a restarted kubelet's. */
  restartVolumes(): PodVolumeManager;
  close(): Promise<void>;
}

/**
 * Options: the driver's name (DRIVER unless given), the CSIDriver object's spec (none: no object),
 * the plugin's, the server's, extra CsiVolumes options.
 */
export interface CsiVolumeHarnessOptions {
  driverName?: string;
  csiDriver?: V1CSIDriverSpec;
  plugin?: Partial<FakeCsiPluginOptions>;
  server?: ApiServerOptions;
  /** Extra CsiVolumes options, or a function making them from the server's core client. */
  csi?: Partial<CsiVolumesOptions> | ((core: CoreV1Api) => Partial<CsiVolumesOptions>);
  /** The volume manager's NFS mount(8) (default: the host's). */
  nfs?: NfsMounter;
  /** The volume manager's volumePluginDir (FlexVolume drivers); none by default. */
  volumePluginDir?: string;
}

export async function startCsiVolumeHarness(opts: CsiVolumeHarnessOptions = {}): Promise<CsiVolumeHarness> {
  const { server, core, storage } = await startCsiNodeApiServer(opts);
  const driverName = opts.driverName ?? DRIVER;
  const root = await mkdtemp(join(tmpdir(), 'na-csi-kinds-'));
  const plugin = await FakeCsiPlugin.start({
    driverName,
    nodeId: NODE,
    socketPath: join(root, 'hostpath.sock'),
    ...opts.plugin,
  });
  const drivers = new CsiDrivers();
  const pm = new PluginManager({ rootDir: root, clock: systemClock, logger: quiet });
  pm.addHandler(CSI_PLUGIN, new CsiRegistrationHandler(drivers, apiCsiNodeInfo(NODE, core, storage), quiet));
  await pm.start();
  const registrar: DriverRegistrar = await startDriverRegistrar({
    registrationDir: join(root, 'plugins_registry'),
    driverName,
    endpoint: plugin.socketPath,
  });
  await waitFor('the driver registered', () => drivers.names().includes(driverName), 30_000);
  const events: string[] = [];
  const recordEvent: PodEventRecorder = (_pod, _type, reason, message) =>
    events.push(`${reason}: ${message}`);
  // One recording mounter for the volume manager and CSI's block volumes (their binds and loop devices).
  const mounter = new RecordingMounter();
  const newCsiVolumes = () =>
    new CsiVolumes({
      rootDir: root,
      nodeName: NODE,
      drivers,
      objects: apiCsiStorageObjects(core, storage),
      recordEvent,
      mounter,
      ...(typeof opts.csi === 'function' ? opts.csi(core) : opts.csi),
    });
  const csiVolumes = newCsiVolumes();
  const newVolumes = (csi: CsiVolumes) =>
    new PodVolumeManager({
      rootDir: root,
      mounter,
      csi,
      ...(opts.nfs ? { nfs: opts.nfs } : {}),
      ...(opts.volumePluginDir ? { volumePluginDir: opts.volumePluginDir } : {}),
    });
  const volumes = newVolumes(csiVolumes);
  return {
    mounter,
    server,
    core,
    storage,
    root,
    plugin,
    csiVolumes,
    volumes,
    events,
    restartVolumes: () => newVolumes(newCsiVolumes()),
    async close() {
      pm.stop();
      await registrar.stop();
      await plugin.stop();
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * What the external provisioner and the PV controller do for a claim: a PersistentVolume of the
 * driver bound to it (claimRef with its uid), the claim's volumeName, and its status Bound with
 * the capacity.
 */
export async function bindClaim(
  core: CoreV1Api,
  namespace: string,
  claimName: string,
  pv: { name: string; volumeHandle: string; capacity?: string } & Omit<
    Partial<V1PersistentVolumeSpec>,
    'capacity'
  >,
): Promise<void> {
  const { name, volumeHandle, capacity = '1Mi', ...spec } = pv;
  const claim = await core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace });
  await core.createPersistentVolume({
    body: {
      metadata: { name },
      spec: {
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: capacity },
        claimRef: { namespace, name: claimName, uid: claim.metadata?.uid },
        csi: { driver: DRIVER, volumeHandle },
        ...(claim.spec?.volumeMode ? { volumeMode: claim.spec.volumeMode } : {}),
        ...spec,
      },
    },
  });
  const withVolume = await core.replaceNamespacedPersistentVolumeClaim({
    name: claimName,
    namespace,
    body: { ...claim, spec: { ...claim.spec, volumeName: name } },
  });
  await core.replaceNamespacedPersistentVolumeClaimStatus({
    name: claimName,
    namespace,
    body: { ...withVolume, status: { phase: 'Bound', capacity: { storage: capacity } } },
  });
}

/** A 1Mi ReadWriteOnce claim `name` in default with volumeMode Block, bound (bindClaim) to `pv`. */
export async function createBoundBlockClaim(
  core: CoreV1Api,
  name: string,
  pv: Parameters<typeof bindClaim>[3],
): Promise<void> {
  await core.createNamespacedPersistentVolumeClaim({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        volumeMode: 'Block',
        resources: { requests: { storage: '1Mi' } },
      },
    },
  });
  await bindClaim(core, 'default', name, pv);
}

/** The TokenRequest API of the harness's server, as the kubelet's token source asks it. */
export function authenticationApi(server: ApiServer): AuthenticationV1Api {
  return server.kubeConfig().makeApiClient(AuthenticationV1Api);
}

/** The PodVolumesNotReadyError a set-up that must fail rejects with (fails the test if it succeeds). */
export async function setUpFailure(volumes: PodVolumeManager, pod: Pod): Promise<PodVolumesNotReadyError> {
  const error = await volumes.setUp(pod, { objects: {} as never }).then(
    () => new Error(`set-up of pod ${pod.metadata.name} succeeded`),
    (e: unknown) => e,
  );
  if (!(error instanceof PodVolumesNotReadyError)) throw error;
  return error;
}
