import { CgroupError } from './cgroup-errors';
import type { CgroupFilesystem } from './cgroup-filesystem';
import type { CgroupResources } from './cgroup-resources';
import { type SystemdManager, unitExistsError } from './systemd-manager';
import { resourceProperties, sliceStartProperties } from './systemd-unit-properties';

/** The root slice, the parent of a top-level slice such as kubepods.slice. */
const rootSlice = '-.slice';

/** "/kubepods.slice/kubepods-burstable.slice" → ["kubepods.slice", "kubepods-burstable.slice"]. */
function sliceChain(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

function isUnitExists(error: unknown): boolean {
  return (error as { errorName?: string } | undefined)?.errorName === unitExistsError;
}

function isTimeout(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'SystemdJobTimeoutError';
}

/**
 * The systemd cgroup driver (upstream: the kubelet's cgroup manager over libcontainer's systemd
 * manager). Paths are expanded slice paths (systemdFilesystemPath). A slice that does not exist
 * yet is created by systemd as a transient unit (StartTransientUnit, its parent by Wants=); limits
 * go to the unit (SetUnitProperties) and then, as libcontainer does, to the cgroup files; a removed
 * slice is stopped (StopUnit) before its directory goes. Reads go to the files.
 */
export class SystemdCgroupFilesystem implements CgroupFilesystem {
  readonly version: 1 | 2;

  constructor(
    /** The cgroup files under the hierarchy (detectCgroupFilesystem). */
    readonly files: CgroupFilesystem,
    private readonly systemd: SystemdManager,
  ) {
    this.version = files.version;
  }

  /** The hierarchy's mount root, where the files live (for readers such as the PSI stats). */
  get mountRoot(): string | undefined {
    return (this.files as { mountRoot?: string }).mountRoot;
  }

  async ensure(path: string, resources: CgroupResources = {}): Promise<void> {
    const slices = sliceChain(path);
    for (let i = 0; i < slices.length; i++) {
      // Upstream creates a cgroup (Apply) only when it does not exist yet, and updates it otherwise.
      if (await this.files.exists(`/${slices.slice(0, i + 1).join('/')}`)) continue;
      await this.startSlice(slices[i]!, i === 0 ? rootSlice : slices[i - 1]!);
    }
    const unit = slices.at(-1);
    if (unit !== undefined) {
      const properties = resourceProperties(resources, this.version, await this.systemd.version());
      if (properties.length > 0)
        await this.systemd.setUnitProperties(unit, true, properties).catch((error: Error) => {
          throw new CgroupError('systemd unit', unit, `unable to set unit properties: ${error.message}`);
        });
    }
    await this.files.ensure(path, resources);
  }

  /**
   * libcontainer's startUnit for the kubelet (ignoreExist: the slice being there already is
   * fine); a job that ends other than "done" is reset and reported with upstream's words.
   */
  private async startSlice(unit: string, parent: string): Promise<void> {
    let result: string;
    try {
      result = await this.systemd.startTransientUnit(
        unit,
        'replace',
        sliceStartProperties(unit, parent, this.version),
      );
    } catch (error) {
      if (isUnitExists(error)) return;
      if (isTimeout(error)) {
        await this.systemd.resetFailedUnit(unit).catch(() => undefined);
        throw new CgroupError('systemd unit', unit, `Timeout waiting for systemd to create ${unit}`);
      }
      throw new CgroupError(
        'systemd unit',
        unit,
        `unable to start unit "${unit}": ${(error as Error).message}`,
      );
    }
    if (result !== 'done') {
      await this.systemd.resetFailedUnit(unit).catch(() => undefined);
      throw new CgroupError(
        'systemd unit',
        unit,
        `error creating systemd unit \`${unit}\`: got \`${result}\``,
      );
    }
  }

  exists(path: string): Promise<boolean> {
    return this.files.exists(path);
  }

  children(path: string): Promise<string[]> {
    return this.files.children(path);
  }

  /**
   * libcontainer's Destroy: StopUnit (a unit already gone is fine, a job that ends other than
   * "done" only warned about upstream), ResetFailedUnit so systemd unloads it, then whatever is
   * left of the directory.
   */
  async remove(path: string): Promise<void> {
    const unit = sliceChain(path).at(-1);
    if (unit === undefined || !(await this.files.exists(path))) return;
    try {
      await this.systemd.stopUnit(unit, 'replace');
    } catch (error) {
      if (isTimeout(error))
        throw new CgroupError('systemd unit', unit, `Timed out while waiting for systemd to remove ${unit}`);
    }
    await this.systemd.resetFailedUnit(unit).catch(() => undefined);
    await this.files.remove(path);
  }

  read(path: string, file: string): Promise<string> {
    return this.files.read(path, file);
  }
}
