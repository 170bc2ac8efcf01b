import { type FSWatcher, watch } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { KubeletLogger } from '../kubelet-logger';
import type { DesiredStateOfWorld } from './desired-state';

/**
 * Watches the registration directory (`<root-dir>/plugins_registry`) and its subdirectories for
 * unix sockets, as upstream's pluginwatcher does: a socket that appears is added to the desired
 * state (again, with a new timestamp, when created anew), one that goes is removed; names starting
 * with '.' and files that are no sockets are ignored. The directory is created (0755) if missing,
 * and the sockets already there are found by a walk at start.
 */
export class PluginWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  /** Each socket's ctime when last added, to tell a new socket from a change event on a known one. */
  private readonly seen = new Map<string, number>();
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly dsw: DesiredStateOfWorld,
    private readonly logger: KubeletLogger,
  ) {}

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await this.traverse(this.dir);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private async traverse(dir: string): Promise<void> {
    if (this.stopped || this.watchers.has(dir)) return;
    // Watch before listing, so a socket created between the two is seen by one or the other.
    const w = watch(dir, { persistent: false }, (_event, name) => {
      if (name) void this.handleEvent(join(dir, name.toString()));
    });
    w.on('error', () => {
      w.close();
      this.watchers.delete(dir);
    });
    this.watchers.set(dir, w);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      this.logger.error({ err: e, path: dir }, 'Failed to traverse plugin socket path');
      return;
    }
    for (const name of entries) await this.handleEvent(join(dir, name));
  }

  /** fs.watch reports creation and removal alike ('rename'): the file's presence tells which. */
  private async handleEvent(path: string): Promise<void> {
    if (this.stopped) return;
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(path);
    } catch {
      if (this.dsw.pluginExists(path))
        this.logger.info({ path }, 'Removing socket path from desired state cache');
      this.dsw.removePlugin(path);
      this.seen.delete(path);
      if (this.watchers.has(path)) {
        this.watchers.get(path)?.close();
        this.watchers.delete(path);
      }
      return;
    }
    if (basename(path).startsWith('.')) return;
    if (st.isDirectory()) return this.traverse(path);
    if (!st.isSocket()) return;
    // A change event on a socket already known (its mode changed, say) is no new creation.
    if (this.dsw.pluginExists(path) && st.ctimeMs <= (this.seen.get(path) ?? 0)) return;
    this.seen.set(path, st.ctimeMs);
    this.logger.info({ path }, 'Adding socket path or updating timestamp to desired state cache');
    this.dsw.addOrUpdatePlugin(path);
  }
}
