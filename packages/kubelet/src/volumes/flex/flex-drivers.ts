import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { callFlexDriver, type FlexCapabilities, type FlexRunner } from './flex-driver-call';

/** An installed driver that answered `init`: its executable and capabilities. */
export interface FlexDriver {
  /** `vendor/driver`, as pods name it in flexVolume.driver. */
  name: string;
  /** `<pluginDir>/<vendor~driver>/<driver>`. */
  executable: string;
  capabilities: FlexCapabilities;
}

/** Where the probe found a driver unusable: the directory and upstream's reason. */
export type FlexProbeError = (directory: string, message: string) => void;

interface Probed {
  /** The executable's mtime when `init` ran (a changed executable is initialised again). */
  mtimeMs: number;
  driver?: FlexDriver;
}

/**
 * Upstream's FlexVolume prober over volumePluginDir: each directory not starting with `.` is a
 * driver, `vendor~driver` holding the executable `driver` (the name `vendor/driver`), registered
 * once its `init` succeeds. Probed when a volume looks for its driver, as upstream probes when
 * it looks for a plugin; a driver installed, replaced (its executable's mtime) or removed since
 * is seen then, as upstream's directory watch sees it.
 */
export class FlexDrivers {
  private readonly probed = new Map<string, Probed>();

  constructor(
    private readonly pluginDir: string,
    private readonly runner: FlexRunner,
    private readonly onProbeError: FlexProbeError = () => undefined,
  ) {}

  /** The driver `name` (`vendor/driver`), if installed and initialised. */
  async driver(name: string): Promise<FlexDriver | undefined> {
    await this.probe();
    for (const entry of this.probed.values()) if (entry.driver?.name === name) return entry.driver;
    return undefined;
  }

  /** The driver whose directory is `directory` (`vendor~driver`, a pod volume directory's plugin name). */
  async driverOfDirectory(directory: string): Promise<FlexDriver | undefined> {
    await this.probe();
    return this.probed.get(directory)?.driver;
  }

  private async probe(): Promise<void> {
    const entries = await readdir(this.pluginDir, { withFileTypes: true }).catch(() => []);
    const present = new Set<string>();
    for (const entry of entries) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      present.add(entry.name);
      await this.probeDirectory(entry.name);
    }
    for (const directory of this.probed.keys()) if (!present.has(directory)) this.probed.delete(directory);
  }

  private async probeDirectory(directory: string): Promise<void> {
    const parts = directory.split('~');
    const executable = join(this.pluginDir, directory, parts[parts.length - 1]!);
    const mtimeMs = await stat(executable).then(
      (info) => info.mtimeMs,
      () => -1,
    );
    if (this.probed.get(directory)?.mtimeMs === mtimeMs) return;
    const entry: Probed = { mtimeMs };
    this.probed.set(directory, entry);
    try {
      const { capabilities } = await callFlexDriver(this.runner, executable, 'init');
      entry.driver = { name: parts.join('/'), executable, capabilities };
    } catch (error) {
      this.onProbeError(
        directory,
        `Error creating Flexvolume plugin from directory ${directory}, skipping. Error: ${(error as Error).message}`,
      );
    }
  }
}
