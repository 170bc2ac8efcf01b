import type { PluginToRegister } from './desired-state';
import type { PluginHandler } from './plugin-handler';

/** A registered plugin: its socket, the desired state's timestamp it was registered for, and who handles it. */
export interface RegisteredPlugin {
  socketPath: string;
  timestamp: number;
  name: string;
  endpoint: string;
  handler: PluginHandler;
}

/**
 * The plugins registered with their handlers (upstream pluginmanager/cache.ActualStateOfWorld).
 * A plugin is added before its handler's registerPlugin runs, so a socket deleted meanwhile is
 * deregistered rather than forgotten.
 */
export class ActualStateOfWorld {
  private readonly plugins = new Map<string, RegisteredPlugin>();

  addPlugin(plugin: RegisteredPlugin): void {
    this.plugins.set(plugin.socketPath, plugin);
  }

  removePlugin(socketPath: string): void {
    this.plugins.delete(socketPath);
  }

  pluginExists(socketPath: string): boolean {
    return this.plugins.has(socketPath);
  }

  pluginExistsWithCorrectTimestamp(p: PluginToRegister): boolean {
    return this.plugins.get(p.socketPath)?.timestamp === p.timestamp;
  }

  registeredPlugins(): RegisteredPlugin[] {
    return [...this.plugins.values()];
  }
}
