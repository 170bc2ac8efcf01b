import { CSI_TIMEOUT_MS } from '@nodeagent/csi-client';
import type { KubeletLogger } from '../../kubelet-logger';
import type { PluginHandler } from '../../pluginmanager/plugin-handler';
import type { CsiDrivers } from './csi-drivers';
import type { CsiNodeAllocatableUpdater } from './csi-node-allocatable-updater';
import { type CsiNodeInfo, csiNodeDriver } from './csi-node-info';

/** `csi: ` as upstream's csi package prefixes its messages (its log() helper). */
function log(msg: string): string {
  return `kubernetes.io/csi: ${msg}`;
}

interface Semver {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

function parseVersion(v: string): Semver | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(v.trim());
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    patch: Number(m[3] ?? 0),
    text: `${m[1]}.${m[2] ?? 0}.${m[3] ?? 0}`,
  };
}

function lessThan(a: Semver, b: Semver): boolean {
  return a.major !== b.major
    ? a.major < b.major
    : a.minor !== b.minor
      ? a.minor < b.minor
      : a.patch < b.patch;
}

/**
 * The highest of the versions a driver registered with that this kubelet speaks: CSI 1.x
 * (upstream highestSupportedVersion; 0.x drivers are no longer supported).
 */
export function highestSupportedVersion(versions: readonly string[]): Semver {
  let best: Semver | undefined;
  for (const v of versions) {
    const parsed = parseVersion(v);
    if (parsed?.major !== 1) continue;
    if (!best || lessThan(best, parsed)) best = parsed;
  }
  if (!best) throw new Error('all plugin versions are unsupported');
  return best;
}

/**
 * The CSIPlugin handler of the plugin manager (upstream pkg/volume/csi RegistrationHandler):
 * validates the versions a driver registers with, keeps the driver's endpoint, asks it
 * NodeGetInfo and writes the answer to the CSINode object and the Node's labels; forgets the
 * driver when its registration socket goes.
 */
export class CsiRegistrationHandler implements PluginHandler {
  constructor(
    private readonly drivers: CsiDrivers,
    private readonly nodeInfo: CsiNodeInfo,
    private readonly logger: KubeletLogger,
    /** Upstream's csiNodeUpdater, told of each driver registered or gone (none: counts written once). */
    private readonly allocatableUpdater?: Pick<CsiNodeAllocatableUpdater, 'sync'>,
  ) {}

  validatePlugin(name: string, endpoint: string, versions: readonly string[]): void {
    this.logger.info(
      { pluginName: name, endpoint, versions: versions.join(',') },
      log('Trying to validate a new CSI Driver'),
    );
    try {
      this.validateVersions('ValidatePlugin', name, versions);
    } catch (e) {
      throw new Error(
        `validation failed for CSI Driver ${name} at endpoint ${endpoint}: ${(e as Error).message}`,
      );
    }
  }

  async registerPlugin(name: string, endpoint: string, versions: readonly string[]): Promise<void> {
    this.logger.info({ pluginName: name, endpoint }, log('Register new plugin'));
    const highest = this.validateVersions('RegisterPlugin', name, versions);
    this.drivers.set({ name, endpoint, highestSupportedVersion: highest.text });
    try {
      const client = this.drivers.client(name);
      if (!client)
        throw new Error(log(`driver name ${name} not found in the list of registered CSI drivers`));
      const info = await client.nodeGetInfo(CSI_TIMEOUT_MS);
      await this.nodeInfo.installDriver(csiNodeDriver(name, info), info.accessibleTopology?.segments ?? {});
    } catch (e) {
      this.drivers.delete(name);
      throw e;
    }
    this.allocatableUpdater?.sync(name);
  }

  async deregisterPlugin(name: string): Promise<void> {
    this.logger.info(
      { pluginName: name },
      log(`registrationHandler.DeRegisterPlugin request for plugin ${name}`),
    );
    this.drivers.delete(name);
    this.allocatableUpdater?.sync(name);
    try {
      await this.nodeInfo.uninstallDriver(name);
    } catch (e) {
      this.logger.error(
        { err: String(e) },
        log(`registrationHandler.DeRegisterPlugin failed: ${(e as Error).message}`),
      );
    }
  }

  private validateVersions(caller: string, name: string, versions: readonly string[]): Semver {
    if (versions.length === 0)
      throw new Error(
        log(
          `${caller} for CSI driver "${name}" failed. Plugin returned an empty list for supported versions`,
        ),
      );
    let highest: Semver;
    try {
      highest = highestSupportedVersion(versions);
    } catch (e) {
      throw new Error(
        log(
          `${caller} for CSI driver "${name}" failed. None of the versions specified ${goQuotedList(versions)} are supported. err=${(e as Error).message}`,
        ),
      );
    }
    const existing = this.drivers.get(name);
    if (existing) {
      const had = parseVersion(existing.highestSupportedVersion) as Semver;
      if (!lessThan(had, highest))
        throw new Error(
          log(
            `${caller} for CSI driver "${name}" failed. Another driver with the same name is already registered with a higher supported version: "${existing.highestSupportedVersion}"`,
          ),
        );
    }
    return highest;
  }
}

/** Go's %q of a []string: `["0.3.0" "0.2.0"]`. */
function goQuotedList(values: readonly string[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;
}
