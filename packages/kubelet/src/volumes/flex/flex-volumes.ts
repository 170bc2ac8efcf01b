import { mkdir, rmdir, stat } from 'node:fs/promises';

import type { Pod, Volume } from '../../api/pod-types';
import type { ObjectSource } from '../../env/resolve-env';
import { podFSGroup, setVolumeOwnership } from '../fs-group';
import type { Mounter } from '../mounter';
import { callFlexDriver, FlexDriverError, type FlexRunner } from './flex-driver-call';
import type { FlexDriver, FlexDrivers } from './flex-drivers';

/** core/v1 FlexVolumeSource (a PersistentVolume's FlexPersistentVolumeSource), the fields the kubelet reads. */
export interface FlexVolumeSource {
  driver: string;
  fsType?: string;
  /** A PersistentVolume's may name the Secret's namespace; a pod's is the pod's. */
  secretRef?: { name?: string; namespace?: string };
  readOnly?: boolean;
  options?: Record<string, string>;
}

/**
 * What a FlexVolume is set up from, as upstream's volume.Spec gives it: the spec's name (the pod's
 * volume, or the PersistentVolume), its source, and whether it is read-only (an inline volume's
 * own readOnly; for a PersistentVolume the pod's claim reference, upstream's spec.ReadOnly).
 */
export interface FlexVolumeSpec {
  name: string;
  source: FlexVolumeSource;
  readOnly: boolean;
}

/** An inline flexVolume's spec. */
export function inlineFlexSpec(volume: Volume): FlexVolumeSpec {
  const source = volume.flexVolume as unknown as FlexVolumeSource;
  return { name: volume.name, source, readOnly: source.readOnly === true };
}

/** A flexVolume's directory under the pod: `volumes/<vendor~driver>/<name>`. */
export function flexPluginDirectory(driver: string): string {
  return driver.replaceAll('/', '~');
}

/** Whether a pod volume directory's plugin name is a FlexVolume driver's (`vendor~driver`, not `kubernetes.io~…`). */
export function isFlexPluginDirectory(name: string): boolean {
  return name.includes('~') && !name.startsWith('kubernetes.io~');
}

/**
 * Upstream's FlexVolume plugin for drivers that do not attach (their `init` reports
 * `attach: false`): SetUp runs `<driver> mount <dir> <json options>` once per pod volume and
 * applies the pod's fsGroup when the driver allows it; TearDown runs `<driver> unmount <dir>`
 * (the kubelet unmounts itself when the driver answers `Not supported`) and removes the
 * directory. An attaching driver's volume is refused by name: this kubelet runs no attach,
 * waitforattach or mountdevice call-outs.
 */
export class FlexVolumes {
  /** Volume directories set up since the kubelet started (upstream's actual state of the world). */
  private readonly setUpDirs = new Set<string>();

  constructor(
    private readonly drivers: FlexDrivers,
    private readonly runner: FlexRunner,
    private readonly mounter: Mounter,
  ) {}

  /** The drivers' directory made when missing, as the volume plugins are initialised (FlexDrivers.init). */
  init(): Promise<void> {
    return this.drivers.init();
  }

  /** Whether the driver `name` is installed and initialised (otherwise no plugin matches its volumes). */
  async hasDriver(name: string): Promise<boolean> {
    return (await this.drivers.driver(name)) !== undefined;
  }

  /** Upstream's flexVolumeMounter.SetUpAt at `dir`; `objects` gives the secretRef's Secret. */
  async setUp(pod: Pod, spec: FlexVolumeSpec, dir: string, objects: ObjectSource): Promise<void> {
    const flex = spec.source;
    const driver = await this.drivers.driver(flex.driver);
    if (!driver)
      throw new Error(`no volume plugin matched for flexVolume driver ${JSON.stringify(flex.driver)}`);
    if (driver.capabilities.attach)
      throw new Error(
        `flexVolume driver ${JSON.stringify(flex.driver)} attaches (its init reported attach: true): this kubelet runs no attach, waitforattach or mountdevice call-outs`,
      );
    // Set up by an earlier sync, or mounted before a restart (prepareForMount): left as it is.
    if (this.setUpDirs.has(dir) || (await this.mounter.isMountPoint(dir))) return;
    await mkdir(dir, { recursive: true, mode: 0o750 });
    const fsGroup = podFSGroup(pod);
    try {
      const options = await driverOptions(pod, spec, objects, fsGroup?.fsGroup);
      await callFlexDriver(this.runner, driver.executable, 'mount', [dir, JSON.stringify(options)]);
    } catch (error) {
      // Upstream's os.Remove: only an empty directory goes.
      await rmdir(dir).catch(() => undefined);
      if (error instanceof FlexDriverError && error.notSupported)
        throw new Error(
          `flexVolume driver ${JSON.stringify(flex.driver)} does not support mount, and this kubelet runs no mountdevice call-out to bind from`,
        );
      throw error;
    }
    if (!spec.readOnly && driver.capabilities.fsGroup && fsGroup)
      await setVolumeOwnership(dir, fsGroup.fsGroup, { policy: fsGroup.policy });
    this.setUpDirs.add(dir);
  }

  /**
   * Upstream's flexVolumeUnmounter.TearDownAt for `dir` under the plugin directory `directory`
   * (`vendor~driver`): nothing when it is gone; the driver's unmount, or the kubelet's own when
   * the driver has none; then the directory, unless the driver removed it.
   */
  async tearDown(directory: string, dir: string): Promise<void> {
    if (!(await exists(dir))) {
      this.setUpDirs.delete(dir);
      return;
    }
    const driver = await this.drivers.driverOfDirectory(directory);
    if (!driver)
      throw new Error(
        `no volume plugin matched for the flexVolume directory ${JSON.stringify(directory)} of ${dir}`,
      );
    await this.unmount(driver, dir);
    this.setUpDirs.delete(dir);
    if (await exists(dir)) await rmdir(dir);
  }

  private async unmount(driver: FlexDriver, dir: string): Promise<void> {
    try {
      await callFlexDriver(this.runner, driver.executable, 'unmount', [dir]);
    } catch (error) {
      if (!(error instanceof FlexDriverError && error.notSupported)) throw error;
      if (await this.mounter.isMountPoint(dir)) await this.mounter.unmount(dir);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Upstream NewOptionsForDriver with the mounter's extra options: fsType, readwrite and the volume
 * name, then the pod's metadata, service account, secret (each key base64, under
 * `kubernetes.io/secret/`) and fsGroup, then the volume's own options over all of them. Go's
 * json.Marshal of a map sorts its keys; so does this.
 */
async function driverOptions(
  pod: Pod,
  spec: FlexVolumeSpec,
  objects: ObjectSource,
  fsGroup: number | undefined,
): Promise<Record<string, string>> {
  const flex = spec.source;
  const options: Record<string, string> = {
    'kubernetes.io/fsType': flex.fsType ?? '',
    'kubernetes.io/readwrite': spec.readOnly ? 'ro' : 'rw',
    'kubernetes.io/pvOrVolumeName': spec.name,
    'kubernetes.io/pod.name': pod.metadata.name ?? '',
    'kubernetes.io/pod.namespace': pod.metadata.namespace ?? 'default',
    'kubernetes.io/pod.uid': pod.metadata.uid ?? '',
    'kubernetes.io/serviceAccount.name': pod.spec.serviceAccountName ?? '',
    ...(await secretOptions(pod, flex, objects)),
    ...(fsGroup !== undefined ? { 'kubernetes.io/fsGroup': String(fsGroup) } : {}),
    ...(flex.options ?? {}),
  };
  return Object.fromEntries(Object.entries(options).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Upstream addSecretsToOptions / GetSecretForPV: the Secret must be of the driver's own type. */
async function secretOptions(
  pod: Pod,
  flex: FlexVolumeSource,
  objects: ObjectSource,
): Promise<Record<string, string>> {
  const name = flex.secretRef?.name ?? '';
  const namespace = flex.secretRef?.namespace || (pod.metadata.namespace ?? 'default');
  if (name === '') return {};
  const couldNot = (reason: string) => new Error(`couldn't get secret ${namespace}/${name} err: ${reason}`);
  const secret = await objects.getSecret(namespace, name);
  if (!secret) throw couldNot(`secrets ${JSON.stringify(name)} not found`);
  if ((secret as { type?: string }).type !== flex.driver)
    throw couldNot(`cannot get secret of type ${flex.driver}`);
  // The Secret's data is base64 already: upstream decodes it and encodes each value again.
  return Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [`kubernetes.io/secret/${key}`, value]),
  );
}
