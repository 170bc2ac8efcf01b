import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeletLogger } from '../../kubelet-logger';
import { goErrnoText } from '../go-errno';
import { callFlexDriver, type FlexCapabilities, type FlexRunner } from './flex-driver-call';

/** An installed driver that answered `init`: its executable and capabilities. */
export interface FlexDriver {
  /** `vendor/driver`, as pods name it in flexVolume.driver. */
  name: string;
  /** `<pluginDir>/<vendor~driver>/<driver>`. */
  executable: string;
  capabilities: FlexCapabilities;
}

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
  /** The directory could not be made at start: no driver is probed (upstream's dummy prober). */
  private disabled = false;

  constructor(
    private readonly pluginDir: string,
    private readonly runner: FlexRunner,
    private readonly logger: Pick<KubeletLogger, 'warn' | 'error'>,
  ) {}

  /**
   * Upstream's prober Init, when the volume plugins are initialised: the directory is made (0755)
   * when missing, so that a driver installer's hostPath of type Directory finds it. Where it cannot
   * be (a read-only /usr), FlexVolume is off for the kubelet's life and the other plugins go on,
   * as upstream falls back to a prober that finds nothing.
   */
  async init(): Promise<void> {
    try {
      await this.createPluginDir();
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, 'Error initializing dynamic plugin prober');
      this.disabled = true;
    }
  }

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
    if (this.disabled) return;
    const entries = await readdir(this.pluginDir, { withFileTypes: true }).catch(async (error) => {
      // Upstream's watch makes the directory again when it is removed, to keep watching it.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        await this.createPluginDir().catch(() => undefined);
      return [];
    });
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
      this.logger.error(
        { directory },
        `Error dynamically probing plugins: Error creating Flexvolume plugin from directory ${directory}, skipping. Error: ${(error as Error).message}`,
      );
    }
  }

  private async createPluginDir(): Promise<void> {
    const exists = await stat(this.pluginDir).then(
      () => true,
      (error) => (error as NodeJS.ErrnoException).code !== 'ENOENT',
    );
    if (exists) return;
    this.logger.warn({}, `Flexvolume plugin directory at ${this.pluginDir} does not exist. Recreating.`);
    try {
      await mkdir(this.pluginDir, { recursive: true, mode: 0o755 });
    } catch (error) {
      const path = (error as NodeJS.ErrnoException).path ?? this.pluginDir;
      throw new Error(`Error (re-)creating driver directory: mkdir ${path}: ${goErrnoText(error)}`);
    }
  }
}
