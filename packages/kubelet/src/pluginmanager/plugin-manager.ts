import { join } from 'node:path';
import type { Clock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { KubeletLogger } from '../kubelet-logger';
import { ActualStateOfWorld, type RegisteredPlugin } from './actual-state';
import { DesiredStateOfWorld } from './desired-state';
import type { PluginHandler } from './plugin-handler';
import { registerPluginManagerMetrics } from './plugin-manager-metrics';
import { PluginWatcher } from './plugin-watcher';
import { Reconciler } from './reconciler';

/** The registration directory under --root-dir (upstream config.DefaultKubeletPluginsRegistrationDirName). */
export const PLUGINS_REGISTRY_DIR = 'plugins_registry';

/** Options for {@link PluginManager}. */
export interface PluginManagerOptions {
  /** --root-dir; sockets are watched in `<rootDir>/plugins_registry`. */
  rootDir: string;
  clock: Clock;
  logger: KubeletLogger;
  /** Where plugin_manager_total_plugins is registered (the kubelet's /metrics registry). */
  registry?: Registry;
}

/**
 * The kubelet's plugin manager (upstream pkg/kubelet/pluginmanager): watches the registration
 * directory, and registers each plugin found with the handler for its type (CSIPlugin,
 * DRAPlugin) through the registration API; deregisters it when its socket goes. Add handlers
 * before `start()`.
 */
export class PluginManager {
  /** @internal The sockets that should be registered, as the watcher sees them. */
  readonly dsw: DesiredStateOfWorld;
  /** @internal The plugins registered with their handlers. */
  readonly asw = new ActualStateOfWorld();
  readonly socketDir: string;
  private readonly watcher: PluginWatcher;
  private readonly reconciler: Reconciler;

  constructor(opts: PluginManagerOptions) {
    this.socketDir = join(opts.rootDir, PLUGINS_REGISTRY_DIR);
    this.dsw = new DesiredStateOfWorld(() => opts.clock.now());
    this.watcher = new PluginWatcher(this.socketDir, this.dsw, opts.logger);
    this.reconciler = new Reconciler(this.dsw, this.asw, opts.clock, opts.logger);
    if (opts.registry) registerPluginManagerMetrics(opts.registry, this.dsw, this.asw);
  }

  /** Route plugins of `pluginType` (GetInfo's `type`) to `handler`. */
  addHandler(pluginType: string, handler: PluginHandler): void {
    this.reconciler.addHandler(pluginType, handler);
  }

  /** Create and watch the directory, then reconcile every second. */
  async start(): Promise<void> {
    await this.watcher.start();
    this.reconciler.start();
  }

  /** Stop watching the directory and the reconcile loop. */
  stop(): void {
    this.watcher.stop();
    this.reconciler.stop();
  }

  /** Run one reconcile pass now (the loop runs one every second). */
  reconcile(): void {
    this.reconciler.reconcile();
  }

  /** The plugins registered now. */
  registeredPlugins(): RegisteredPlugin[] {
    return this.asw.registeredPlugins();
  }
}
